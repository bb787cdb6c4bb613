// Issue #13: one client pulling large answers through one SSE-preferring session filled the replay log
// until V8 aborted ("heap out of memory") under the shipped heap flags. The gateway runs here as its own
// process with those flags (what `npm start` runs), so its RSS is its own.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GATEWAY_REPLAY_BYTES, SESSION_REPLAY_BYTES } from '../../src/sessions/event-log.ts';
import { DEMO, type Json } from '../helpers/gateway.ts';
import { START_FLAGS, spawnGateway, type GatewayProcess } from '../helpers/process-gateway.ts';

const MiB = 1024 * 1024;
const ANSWER_BYTES = 3_000_000;
const ANSWERS = 100;
/**
 * The memory model's bound (see the README, "Memory"): node, its code, tsx and the idle heap (128 MiB),
 * plus the replay budget of all sessions, plus 8× each message in flight (the line read from the child,
 * its string, the parsed answer, the string sent, the SSE frame, and garbage not yet collected).
 */
const RSS_BOUND = 128 * MiB + GATEWAY_REPLAY_BYTES + 8 * ANSWER_BYTES;

/** text/event-stream listed first: even a lone answer comes as an SSE event with an id (and used to be kept). */
const SSE_FIRST = { 'content-type': 'application/json', accept: 'text/event-stream, application/json' };

let g: GatewayProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  await g?.stop();
  g = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

async function initialize(url: string): Promise<string> {
  const res = await fetch(`${url}/mcp/demo/mcp`, {
    method: 'POST',
    headers: SSE_FIRST,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'big', version: '1' } } }),
  });
  expect(res.status).toBe(200);
  await res.text();
  return res.headers.get('mcp-session-id')!;
}

function callBig(url: string, sid: string, id: number, args: Record<string, number>, progressToken?: string): Promise<Response> {
  return fetch(`${url}/mcp/demo/mcp`, {
    method: 'POST',
    headers: { ...SSE_FIRST, 'mcp-session-id': sid },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'big', arguments: args, ...(progressToken === undefined ? {} : { _meta: { progressToken } }) } }),
  });
}

async function replayBytes(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^mcp_gateway_replay_log_bytes (\S+)$/m.exec(text)![1]);
}

describe('memory: large answers through one SSE-preferring session', () => {
  it(`delivers ${ANSWERS} answers of 3 MB with the replay budget full; the gateway stays up within the RSS bound`, async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-mem-'));
    const file = path.join(dir, 'mcp-gateway.yaml');
    writeFileSync(file, `version: 1\nlisten: { host: 127.0.0.1, port: 0 }\nservers:\n  demo:\n    command: node\n    args: [${JSON.stringify(DEMO)}]\n`);
    g = await spawnGateway(['--config', file], {}, START_FLAGS);
    const url = g.url;

    // The worst case first: clients whose streams broke before their 3 MB answers came leave them in
    // the replay log, more than the gateway's budget holds (two per session fit a session's budget).
    const brokenSessions = Math.ceil(GATEWAY_REPLAY_BYTES / SESSION_REPLAY_BYTES) * 2;
    for (let s = 0; s < brokenSessions; s++) {
      const sid = await initialize(url);
      for (let k = 1; k <= 2; k++) {
        const res = await callBig(url, sid, k, { bytes: ANSWER_BYTES, ms: 50 }, `p${k}`);
        const reader = res.body!.getReader();
        await reader.read(); // the progress event: the answer is now resumable, and the client leaves
        await reader.cancel();
      }
    }
    // Wait until every answer has arrived (none in flight) and been kept: the log then holds far more than
    // one session's budget, and nothing more comes to it from those sessions.
    const inFlight = async (): Promise<number> => ((await (await fetch(`${url}/mcp/servers`)).json()) as Json).servers[0].inFlight as number;
    let kept = 0;
    while ((await inFlight()) > 0 || (kept = await replayBytes(url)) < GATEWAY_REPLAY_BYTES - SESSION_REPLAY_BYTES) await new Promise((r) => setTimeout(r, 50));
    kept = await replayBytes(url);
    expect(kept).toBeLessThanOrEqual(GATEWAY_REPLAY_BYTES);

    const sid = await initialize(url);
    let maxRss = g.rssBytes();
    for (let i = 1; i <= ANSWERS; i++) {
      const res = await callBig(url, sid, i, { bytes: ANSWER_BYTES });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const text = await res.text();
      const data = /^data: (.+)$/m.exec(text)?.[1]; // the first event is the priming one (empty data)
      expect(data, `answer ${i}`).toBeDefined();
      const answer = JSON.parse(data!) as Json;
      expect(answer.id).toBe(i);
      expect((answer.result.content[0].text as string).length).toBe(ANSWER_BYTES);
      maxRss = Math.max(maxRss, g.rssBytes());
    }
    // Up, serving, and the answers it delivered in full were not kept.
    expect(g.proc.exitCode).toBeNull();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await replayBytes(url)).toBe(kept);
    expect(maxRss, `max RSS ${Math.round(maxRss / MiB)} MiB, bound ${Math.round(RSS_BOUND / MiB)} MiB`).toBeLessThanOrEqual(RSS_BOUND);
    expect(await g.stop()).toBe(0);
  }, 120_000);
});
