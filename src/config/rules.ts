// Checks the schema cannot say well: relations between fields. Each problem names the place to fix it,
// in the schema checker's terms, so the loader shows it at its line and column like any other.
import { isLoopbackHost } from './loopback.ts';
import type { ManifestV1 } from './resolve.ts';
import type { SchemaProblem } from './schema.ts';

export function checkRules(m: ManifestV1): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const at = (path: (string | number)[], message: string): void => void out.push({ path, target: { kind: 'value' }, keyword: 'rule', message });
  const keys = m.auth?.keys ?? [];
  const names = new Set<string>();
  keys.forEach((k, i) => {
    if (names.has(k.name)) at(['auth', 'keys', i, 'name'], `auth.keys[${i}].name: another key is named the same; key names must be unique`);
    names.add(k.name);
    if ((k.sha256 === undefined) === (k.key === undefined)) {
      at(['auth', 'keys', i], `auth.keys[${i}]: give exactly one of sha256 (the key's hash, from \`mcp-gateway hash-key\`) or key (e.g. key: \${MY_KEY})`);
    }
    if (k.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(k.sha256)) {
      at(['auth', 'keys', i, 'sha256'], `auth.keys[${i}].sha256: must be 64 hex characters; make it with \`mcp-gateway hash-key\``);
    }
    if (k.servers !== '*') {
      k.servers.forEach((s, j) => {
        if (!(s in m.servers)) at(['auth', 'keys', i, 'servers', j], `auth.keys[${i}].servers[${j}]: no server of that name in servers; fix the name or remove it`);
      });
    }
  });
  // The aggregate endpoint: one prefix names one server (two servers without a prefix may share the
  // endpoint: their clashing names are reported at runtime, as they are only known then).
  const prefixes = new Map<string, string>();
  for (const [name, s] of Object.entries(m.servers)) {
    const prefix = s.prefix ?? name;
    if (prefix === '') continue;
    const other = prefixes.get(prefix);
    if (other !== undefined) at(['servers', name, ...(s.prefix === undefined ? [] : ['prefix'])], `servers.${name}: its prefix on the aggregate endpoint is also server ${other}'s; give one of them another prefix`);
    prefixes.set(prefix, name);
  }
  for (const [name, e] of Object.entries(m.endpoints ?? {})) {
    if (e.servers === '*') continue;
    e.servers.forEach((s, j) => {
      if (!(s in m.servers)) at(['endpoints', name, 'servers', j], `endpoints.${name}.servers[${j}]: no server of that name in servers; fix the name or remove it`);
    });
  }
  const host = m.listen?.host;
  if (host !== undefined && !isLoopbackHost(host) && keys.length === 0 && m.auth?.none !== true) {
    at(['listen', 'host'], 'listen.host: not a loopback address, and no auth.keys: anyone who can reach it could run your servers; add auth.keys, or write auth: { none: true } if something in front authenticates');
  }
  return out;
}
