import parsePrometheus from 'parse-prometheus-text-format';
import { passAfter } from '../reconciler/passes.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { callTool, closeAll, command, demoServer, manifest, running, startHarness } from '../helpers/gateway.ts';

afterEach(closeAll);

let lastText = '';

async function scrape(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  lastText = await res.text();
  return parsePrometheus(lastText);
}

function value(families: ReturnType<typeof parsePrometheus>, name: string, labels: Record<string, string>): number {
  const f = families.find((x) => x.name === name);
  const m = f?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  return Number(m?.value ?? m?.count ?? NaN);
}

describe('GET /metrics', () => {
  it('is Prometheus text a parser accepts, and its counters move with requests', async () => {
    const h = await startHarness(manifest(demoServer('demo')));
    await running(h.url, 'demo');
    const before = await scrape(h.url);
    expect(value(before, 'mcp_gateway_server_up', { server: 'demo' })).toBe(1);
    expect(value(before, 'mcp_gateway_server_state', { server: 'demo', state: 'running' })).toBe(1);
    expect(value(before, 'mcp_gateway_reloads_total', { result: 'success' })).toBe(1);
    expect(before.some((f) => f.name === 'mcp_gateway_process_resident_memory_bytes')).toBe(true);

    for (let i = 0; i < 3; i++) await command(h.url, 'demo', callTool(i, 'echo', { text: 'x' }));
    await command(h.url, 'demo', callTool(9, 'fail', {}));
    await command(h.url, 'demo', { jsonrpc: '2.0', id: 10, method: 'no/such/method' });
    const after = await scrape(h.url);
    expect(value(after, 'mcp_gateway_requests_total', { server: 'demo', method: 'tools/call', outcome: 'ok' })).toBe(4);
    expect(value(after, 'mcp_gateway_requests_total', { server: 'demo', method: 'other', outcome: 'error' })).toBe(1);
    const latency = after.find((f) => f.name === 'mcp_gateway_request_duration_seconds');
    expect(latency?.type).toBe('HISTOGRAM');
    expect(latency?.metrics.some((m) => m.buckets?.['+Inf'] !== undefined)).toBe(true);
    expect(lastText).toContain('mcp_gateway_request_duration_seconds_count{server="demo",method="tools/call"} 4');

    const passes = h.gateway.reconciler.passesStarted;
    h.write(manifest(demoServer('demo')) + 'oops: [\n');
    await passAfter(h.gateway.reconciler, passes, (p) => p.result === 'rejected');
    expect(value(await scrape(h.url), 'mcp_gateway_reloads_total', { result: 'failure' })).toBe(1);
  });
});
