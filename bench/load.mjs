// The load: MCP sessions over Streamable HTTP (initialize once each), then echo tool calls spread over
// them at a fixed concurrency, a fixed number of requests; latency per request, requests per second.
import { Agent, request } from 'node:http';

function post(agent, url, body, headers) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens `count` sessions at `url`; returns their header sets. */
export async function openSessions(url, count) {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const sessions = [];
  for (let i = 0; i < count; i++) {
    const init = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } };
    const r = await post(agent, url, JSON.stringify(init), {});
    if (r.status !== 200) throw new Error(`initialize at ${url}: HTTP ${r.status} ${r.data.slice(0, 200)}`);
    const headers = { 'mcp-protocol-version': '2025-06-18' };
    if (r.headers['mcp-session-id']) headers['mcp-session-id'] = r.headers['mcp-session-id'];
    await post(agent, url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers);
    sessions.push(headers);
  }
  agent.destroy();
  return sessions;
}

/**
 * The 2026-07-28 stateless client's "sessions": no initialize, no session id; each request carries its
 * version, method and name in headers and its client's capabilities in _meta.
 */
export function statelessClients(count) {
  const headers = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
  return Array.from({ length: count }, () => ({ ...headers, [MODERN]: '1' }));
}

const MODERN = 'x-bench-modern';
/** The echo tool's name where it is not `echo` (the aggregate endpoint's `demo__echo`). */
export const TOOL = 'x-bench-tool';
const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
};

/** Runs `total` echo calls at `concurrency`; returns { rps, p50, p99 } (ms). */
export async function run(url, sessions, concurrency, total) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = new Float64Array(total);
  let issued = 0;
  let failures = 0;
  const started = process.hrtime.bigint();
  async function worker(w) {
    while (issued < total) {
      const i = issued++;
      const headers = sessions[i % sessions.length];
      const params = { name: headers[TOOL] ?? 'echo', arguments: { text: `hello ${i}` } };
      if (headers[MODERN] !== undefined) params._meta = META;
      const body = JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params });
      const t0 = process.hrtime.bigint();
      const r = await post(agent, url, body, headers);
      latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 200 || !r.data.includes(`hello ${i}`)) failures++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return { rps: total / seconds, p50: pct(50), p99: pct(99), failures };
}

/** The p-th percentile (0–100) of ascending `sorted`. */
export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** One request: POST `body` to `url` on `agent`; resolves { status, data } (status 0: the connection failed). */
export function send(agent, url, body, headers = {}) {
  return post(agent, url, body, headers).catch((err) => ({ status: 0, headers: {}, data: `${err.code ?? ''} ${err.message}` }));
}

/**
 * Echo calls at `concurrency` for `ms` milliseconds, spread over `clients` ({ face, url, headers }: an MCP
 * session's or a stateless client's headers, or none for the classic POST /mcp/<server>/command). Returns
 * each request's start and end (performance.now()), and the failures with their face and what they said.
 */
export async function runFor(clients, concurrency, ms) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const requests = [];
  const failures = [];
  const until = performance.now() + ms;
  let issued = 0;
  async function worker() {
    while (performance.now() < until) {
      const i = issued++;
      const c = clients[i % clients.length];
      const params = { name: 'echo', arguments: { text: `hello ${i}` } };
      if (c.headers[MODERN] !== undefined) params._meta = META;
      const body = JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params });
      const start = performance.now();
      const r = await send(agent, c.url, body, c.headers);
      const end = performance.now();
      requests.push({ start, end });
      if (r.status !== 200 || !r.data.includes(`hello ${i}`)) failures.push({ face: c.face, at: start, status: r.status, data: r.data.slice(0, 300) });
    }
  }
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  agent.destroy();
  return { requests, failures };
}
