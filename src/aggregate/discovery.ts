// Discovery mode for bundles with large catalogs (pure): a session first sees two tools, search_tools
// and enable_tools; what it enables joins its list (the caller sends tools/list_changed). The catalog
// itself (every tool the bundle shows) comes from the aggregate's merged list.

export const SEARCH_TOOL = 'search_tools';
export const ENABLE_TOOL = 'enable_tools';

export const DISCOVERY_TOOLS: readonly Record<string, unknown>[] = [
  {
    name: SEARCH_TOOL,
    title: 'Search the tool catalog',
    description: 'Finds tools of this endpoint by words in their name, title or description. Returns up to 20 matches (name: description); enable the ones you need with enable_tools.',
    inputSchema: { type: 'object', properties: { query: { type: 'string', description: 'Words to look for (all must match).' } }, required: ['query'] },
    annotations: { readOnlyHint: true },
  },
  {
    name: ENABLE_TOOL,
    title: 'Enable tools for this session',
    description: 'Adds tools found with search_tools to this session: they appear in the tool list and can be called.',
    inputSchema: { type: 'object', properties: { names: { type: 'array', items: { type: 'string' }, description: 'Tool names as search_tools gave them.' } }, required: ['names'] },
  },
];

const MAX_MATCHES = 20;

/** The catalog's tools that match every word of `query` (case-insensitive), best first (name hits first). */
export function searchCatalog(catalog: readonly Record<string, unknown>[], query: string): Record<string, unknown>[] {
  const words = query.toLowerCase().split(/\s+/).filter((w) => w !== '');
  const text = (t: Record<string, unknown>): string => [t.name, t.title, t.description].filter((v) => typeof v === 'string').join(' ').toLowerCase();
  const hits = catalog.filter((t) => words.every((w) => text(t).includes(w)));
  const inName = (t: Record<string, unknown>): number => words.filter((w) => String(t.name).toLowerCase().includes(w)).length;
  return hits.sort((a, b) => inName(b) - inName(a)).slice(0, MAX_MATCHES);
}

/** The text search_tools answers with. */
export function describeMatches(matches: readonly Record<string, unknown>[], query: string): string {
  if (matches.length === 0) return `No tool matches "${query}".`;
  return matches.map((t) => `${String(t.name)}: ${typeof t.description === 'string' ? t.description : (t.title ?? '')}`).join('\n');
}
