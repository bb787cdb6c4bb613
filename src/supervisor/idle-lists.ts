// The lists an idle server answers without a process: read whole from its last child just before an idle
// stop, so listing (on /mcp every member is asked) does not start every on-demand server. As with the
// kept InitializeResult, they are the last child's answers, forgotten when the process it would start differs.
import { ErrorCode, type JsonRpcErrorObject, type JsonRpcResponse } from '../protocol/jsonrpc.ts';
import type { KnownAnswer, KnownLists } from '../router/types.ts';
import { readList, type ListSource } from './rollout.ts';

const KEPT = [
  { method: 'tools/list', capability: 'tools', field: 'tools' },
  { method: 'prompts/list', capability: 'prompts', field: 'prompts' },
  { method: 'resources/list', capability: 'resources', field: 'resources' },
  { method: 'resources/templates/list', capability: 'resources', field: 'resourceTemplates' },
] as const;

/**
 * Each list the child answers in full, or its "method not found" (also for a list it does not declare); one
 * it fails, times out or pages without end is left out (asking it starts the child).
 */
export async function readKnownLists(source: ListSource): Promise<KnownLists> {
  const reads = KEPT.map(async (l) => {
    let notFound: JsonRpcErrorObject | undefined;
    const send = async (method: string, params: Record<string, unknown>): Promise<JsonRpcResponse> => {
      const response = await source.send(method, params);
      if ('error' in response && response.error.code === ErrorCode.MethodNotFound) notFound = response.error;
      return response;
    };
    const read = await readList({ send, initializeResult: source.initializeResult }, l.method, l.capability, l.field);
    // A list the child does not declare is answered as a child without it answers: the aggregate skips it.
    if (read === 'undeclared') notFound = { code: ErrorCode.MethodNotFound, message: `Method not found: ${l.method}` };
    const answer: KnownAnswer | undefined = typeof read !== 'string' ? { result: { [l.field]: read } } : notFound !== undefined ? { error: notFound } : undefined;
    return [l.method, answer] as const;
  });
  const known = new Map<string, KnownAnswer>();
  for (const [method, answer] of await Promise.all(reads)) if (answer !== undefined) known.set(method, answer);
  return known;
}
