// The aggregate endpoint's name rules (pure): a tool or prompt of server `s` named `n` is `s__n` to the
// client; a qualified name is split back by the longest server name it starts with (server names may hold
// `_`, tool names may hold `__`: `a__b__c` is server `a`, tool `b__c` unless a server `a__b` is visible
// too); cursors span servers; the capabilities of many children are united.

export const SEPARATOR = '__';

/** A tool or prompt name as the aggregate shows it: `<prefix><separator><name>`, or the name alone. */
export function qualify(prefix: string, name: string, separator = SEPARATOR): string {
  return prefix === '' ? name : `${prefix}${separator}${name}`;
}

/**
 * The server and its own name for a shown name: by the longest prefix it starts with (among `prefixes`,
 * prefix → server), else, for servers without a prefix, by `plain` (name → server, from their lists).
 */
export function resolveName(
  shown: string,
  prefixes: Iterable<readonly [string, string]>,
  separator = SEPARATOR,
  plain: ReadonlyMap<string, string> = new Map(),
): { server: string; name: string } | undefined {
  let best: readonly [string, string] | undefined;
  for (const entry of prefixes) {
    const p = entry[0];
    if (p !== '' && shown.length > p.length + separator.length && shown.startsWith(p + separator) && (best === undefined || p.length > best[0].length)) best = entry;
  }
  if (best !== undefined) return { server: best[1], name: shown.slice(best[0].length + separator.length) };
  const server = plain.get(shown);
  return server === undefined ? undefined : { server, name: shown };
}

/** Longest name or URI a glob is matched against; longer ones match nothing (and cost nothing). */
export const MAX_MATCHED_LENGTH = 4096;

/**
 * Whether a glob (`*` any run, `?` one character) matches all of `text`. Linear: on a mismatch it backs
 * up only to the last `*` (a regular expression of several `*` backtracks in the square of the length).
 */
export function globMatches(glob: string, text: string): boolean {
  if (text.length > MAX_MATCHED_LENGTH) return false;
  let g = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (g < glob.length && (glob[g] === '?' || glob[g] === text[t])) {
      g++;
      t++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      mark = t;
    } else if (star !== -1) {
      g = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

/** An item is shown when it matches `allow` (all by default) and nothing in `deny`. */
export function shows(filter: { readonly allow?: readonly string[]; readonly deny?: readonly string[] }, text: string): boolean {
  if (filter.allow !== undefined && !filter.allow.some((g) => globMatches(g, text))) return false;
  return !(filter.deny ?? []).some((g) => globMatches(g, text));
}

/** Where a paginated aggregate list goes on: a server (by name) and that server's own cursor. */
export interface AggregateCursor {
  readonly server: string;
  readonly cursor?: string;
}

export function encodeCursor(c: AggregateCursor): string {
  return Buffer.from(JSON.stringify(c.cursor === undefined ? [c.server] : [c.server, c.cursor])).toString('base64url');
}

export function decodeCursor(text: unknown): AggregateCursor | undefined {
  if (typeof text !== 'string' || text.length > 8192) return undefined;
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || typeof v[0] !== 'string' || (v.length === 2 && typeof v[1] !== 'string') || v.length > 2) return undefined;
    return v.length === 2 ? { server: v[0], cursor: v[1] as string } : { server: v[0] };
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The aggregate's capabilities: each kind that any child offers. `listChanged` is always on for the lists
 * (servers come and go with reloads, and the aggregate says so); `subscribe` where any child has it.
 */
export function unitedCapabilities(children: readonly Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const result of children) {
    const caps = isObject(result.capabilities) ? result.capabilities : {};
    for (const kind of ['tools', 'prompts', 'resources'] as const) {
      if (!isObject(caps[kind])) continue;
      out[kind] ??= { listChanged: true };
      if (kind === 'resources' && (caps[kind] as Record<string, unknown>).subscribe === true) out[kind].subscribe = true;
    }
    for (const kind of ['completions', 'logging'] as const) if (isObject(caps[kind])) out[kind] ??= {};
  }
  return out;
}

/** What each kind of list is called in its result, and which field names its items. */
export const LISTS: Readonly<Record<string, { readonly field: string; readonly key: 'name' | 'uri' | 'uriTemplate' }>> = {
  'tools/list': { field: 'tools', key: 'name' },
  'prompts/list': { field: 'prompts', key: 'name' },
  'resources/list': { field: 'resources', key: 'uri' },
  'resources/templates/list': { field: 'resourceTemplates', key: 'uriTemplate' },
};

/** The fixed part of a URI template before its first expression (`file:///{path}` → `file:///`). */
export function templatePrefix(uriTemplate: string): string {
  const at = uriTemplate.indexOf('{');
  return at === -1 ? uriTemplate : uriTemplate.slice(0, at);
}
