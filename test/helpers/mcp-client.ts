// Stock MCP clients for tests: the official TypeScript SDK's Client over Streamable HTTP or legacy SSE.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export interface Connected {
  client: Client;
  transport: StreamableHTTPClientTransport | SSEClientTransport;
  close(): Promise<void>;
}

const open = new Set<Connected>();

export async function connect(
  url: string,
  options: { legacy?: boolean; capabilities?: Record<string, object>; name?: string; setup?: (c: Client) => void; requestInit?: RequestInit } = {},
): Promise<Connected> {
  const client = new Client({ name: options.name ?? 'test-client', version: '1.0.0' }, { capabilities: options.capabilities ?? {} });
  options.setup?.(client);
  const init = options.requestInit === undefined ? {} : { requestInit: options.requestInit };
  const transport = options.legacy ? new SSEClientTransport(new URL(url), init) : new StreamableHTTPClientTransport(new URL(url), init);
  await client.connect(transport);
  const c: Connected = {
    client,
    transport,
    async close() {
      open.delete(c);
      await client.close().catch(() => {});
    },
  };
  open.add(c);
  return c;
}

export async function closeClients(): Promise<void> {
  await Promise.all([...open].map((c) => c.close()));
}

export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}
