// The aggregate endpoint's name rules (pure): a tool or prompt of server `s` named `n` is `s__n` to the
// client; a qualified name is split back by the longest server name it starts with (server names may hold
// `_`, tool names may hold `__`: `a__b__c` is server `a`, tool `b__c` unless a server `a__b` is visible
// too); cursors span servers; the capabilities of many children are united.

export const SEPARATOR = '__';

export function qualify(server: string, name: string): string {
  return `${server}${SEPARATOR}${name}`;
}

/** The server and its own name for a qualified name, among `servers`; undefined when none matches. */
export function resolveName(qualified: string, servers: Iterable<string>): { server: string; name: string } | undefined {
  let best: string | undefined;
  for (const s of servers) {
    if (qualified.length > s.length + SEPARATOR.length && qualified.startsWith(s + SEPARATOR) && (best === undefined || s.length > best.length)) best = s;
  }
  return best === undefined ? undefined : { server: best, name: qualified.slice(best.length + SEPARATOR.length) };
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
