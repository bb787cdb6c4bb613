// Walks a tool list to its end through the endpoint's cursors, with either SDK's client.

interface Lister {
  listTools(params?: { cursor?: string }): Promise<{ tools: { name: string }[]; nextCursor?: string }>;
}

/** Every tool name, following the endpoint's cursors to the end. */
export async function allToolNames(client: Lister): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    names.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return names;
}
