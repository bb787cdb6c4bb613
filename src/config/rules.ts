// Checks the schema cannot say well: relations between fields. Each problem names the place to fix it,
// in the schema checker's terms, so the loader shows it at its line and column like any other.
import { isLoopbackHost } from './loopback.ts';
import { webUrlProblem } from './public-url.ts';
import type { AuthIn, ManifestV1 } from './resolve.ts';
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
        if (!Object.hasOwn(m.servers, s)) at(['auth', 'keys', i, 'servers', j], `auth.keys[${i}].servers[${j}]: no server of that name in servers; fix the name or remove it`);
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
  for (const [name, s] of Object.entries(m.servers)) {
    if (s.callerEnv !== undefined && s.sharing !== 'per-session') {
      at(['servers', name, 'callerEnv'], `servers.${name}.callerEnv: only for sharing: per-session (a shared child serves every caller at once)`);
    }
  }
  for (const [name, e] of Object.entries(m.endpoints ?? {})) {
    if (e.servers === '*') continue;
    e.servers.forEach((s, j) => {
      if (!Object.hasOwn(m.servers, s)) at(['endpoints', name, 'servers', j], `endpoints.${name}.servers[${j}]: no server of that name in servers; fix the name or remove it`);
    });
  }
  const host = m.listen?.host;
  const oauth = m.auth?.oauth;
  if (host !== undefined && !isLoopbackHost(host) && keys.length === 0 && oauth === undefined && m.auth?.none !== true) {
    at(['listen', 'host'], 'listen.host: not a loopback address, and no auth.keys or auth.oauth: anyone who can reach it could run your servers; add auth.keys, or write auth: { none: true } if something in front authenticates');
  }
  const publicUrl = m.listen?.publicUrl;
  if (publicUrl !== undefined) {
    const problem = webUrlProblem(publicUrl, 'listen.publicUrl');
    if (problem !== undefined) at(['listen', 'publicUrl'], problem);
  }
  if (oauth !== undefined) checkOAuth(m, oauth, at);
  return out;
}

/** Scope tokens (RFC 6749 §3.3): printable ASCII but space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

function checkOAuth(m: ManifestV1, oauth: NonNullable<AuthIn['oauth']>, at: (path: (string | number)[], message: string) => void): void {
  if (m.auth?.none === true) {
    at(['auth', 'none'], 'auth.none: true says nothing authenticates here, but auth.oauth is set; remove one of them');
  }
  const host = m.listen?.host;
  if (m.listen?.publicUrl === undefined && host !== undefined && !isLoopbackHost(host)) {
    // On loopback the URL is known (http://127.0.0.1:<port>); anywhere else a proxy, a DNS name or TLS
    // termination may stand between client and gateway, and only the operator knows the URL clients use.
    at(['auth', 'oauth'], 'auth.oauth: needs listen.publicUrl (the base URL clients use, e.g. https://gw.example.com): tokens are bound to URLs made from it, and behind a proxy or a DNS name the gateway cannot know it');
  }
  const seen = new Set<string>();
  oauth.issuers.forEach((i, n) => {
    if (seen.has(i.issuer)) at(['auth', 'oauth', 'issuers', n, 'issuer'], `auth.oauth.issuers[${n}].issuer: another issuer is the same; list each issuer once`);
    seen.add(i.issuer);
    for (const field of ['issuer', 'jwksUri'] as const) {
      const text = i[field];
      if (text === undefined) continue;
      const problem = webUrlProblem(text, `auth.oauth.issuers[${n}].${field}`);
      if (problem !== undefined) at(['auth', 'oauth', 'issuers', n, field], problem);
    }
  });
  (oauth.grants ?? []).forEach((g, n) => {
    if ((g.claim === 'scope' || g.claim === 'scp') && !SCOPE_TOKEN.test(g.value)) {
      at(['auth', 'oauth', 'grants', n, 'value'], `auth.oauth.grants[${n}].value: a scope is one word of printable ASCII without " or \\; a rule names one scope`);
    }
    if (g.servers === '*') return;
    g.servers.forEach((s, j) => {
      if (!Object.hasOwn(m.servers, s)) at(['auth', 'oauth', 'grants', n, 'servers', j], `auth.oauth.grants[${n}].servers[${j}]: no server of that name in servers; fix the name or remove it`);
    });
  });
}
