// Stream tickets: a browser page holding a key asks for a ticket with fetch and opens the classic event
// stream with EventSource (which cannot send a header), from another origin; a ticket is good once, for one
// path, for 30 s, and never shows in the log.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamTickets, TICKET_TTL_MS } from '../../src/auth/stream-tickets.ts';
import type { KeySpec } from '../../src/config/types.ts';
import { closeAll, demoServer, manifest, startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { needTool } from '../helpers/tools.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const KEY = 'ops-key-0123456789abcdef';
let browser: Browser | undefined;
let page: Server | undefined;

afterEach(async () => {
  await browser?.close();
  browser = undefined;
  await new Promise((r) => (page === undefined ? r(undefined) : page.close(r)));
  page = undefined;
  await closeAll();
});

const head = `auth:\n  keys:\n    - { name: ops, key: ${KEY}, servers: "*", admin: true }\n`;

async function running(h: Harness): Promise<void> {
  await waitFor(async () => {
    const body = (await (await fetch(`${h.url}/mcp/servers`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as Json;
    return body.servers.some((s: Json) => s.name === 'demo' && s.state === 'running');
  }, 'demo running');
}

async function ticketFor(h: Harness, path: string, key: string | null = KEY): Promise<Response> {
  return fetch(`${h.url}/auth/ticket`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    body: JSON.stringify({ path }),
  });
}

describe('stream tickets', () => {
  it('open the stream they were asked for, once; never another path; never without a credential', async () => {
    const h = await startHarness(manifest(demoServer('demo'), `listen: { host: 127.0.0.1, port: 0, accessLog: true }\n${head}`).replace('listen: { host: 127.0.0.1, port: 0 }\n', ''));
    await running(h);
    expect((await ticketFor(h, '/mcp/demo/sse', null)).status).toBe(401);
    expect((await ticketFor(h, 'mcp/demo/sse')).status).toBe(400);
    const { ticket, expiresInSeconds } = (await (await ticketFor(h, '/mcp/demo/sse')).json()) as { ticket: string; expiresInSeconds: number };
    expect(expiresInSeconds).toBe(TICKET_TTL_MS / 1000);
    const stream = await fetch(`${h.url}/mcp/demo/sse?ticket=${ticket}`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
    await stream.body?.cancel();
    expect((await fetch(`${h.url}/mcp/demo/sse?ticket=${ticket}`)).status).toBe(401); // spent
    const other = ((await (await ticketFor(h, '/status/events')).json()) as { ticket: string }).ticket;
    expect((await fetch(`${h.url}/mcp/demo/sse?ticket=${other}`)).status).toBe(401); // another path's
    expect((await fetch(`${h.url}/mcp/demo/sse?ticket=${'x'.repeat(43)}`)).status).toBe(401);
    expect(h.logs.join('\n')).not.toContain(ticket);
  });

  it('expire after 30 s and stand for the principal that asked', () => {
    let now = 1_000;
    const book = new StreamTickets(() => now);
    const ops = { name: 'ops' } as KeySpec;
    const a = book.issue(ops, '/p').ticket;
    const b = book.issue(ops, '/p').ticket;
    expect(book.take(a, '/p')).toBe(ops);
    now += TICKET_TTL_MS;
    expect(book.take(b, '/p')).toBeUndefined();
    expect(book.size).toBe(0);
  });

  it('let a page on another origin open the classic stream with EventSource (Chromium)', async (ctx) => {
    needTool(ctx, { name: 'Chromium', missing: existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (CHROMIUM_PATH names another)`, enable: 'apt-get install -y chromium' });
    // The page's origin: localhost, another port (an allowed origin, other than the gateway's).
    page = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><title>waiting</title>');
    });
    await new Promise<void>((r) => page!.listen(0, '127.0.0.1', r));
    const origin = `http://localhost:${(page.address() as AddressInfo).port}`;
    const h = await startHarness(manifest(demoServer('demo'), `listen: { host: 127.0.0.1, port: 0, cors: { origins: ["${origin}"] } }\n${head}`).replace('listen: { host: 127.0.0.1, port: 0 }\n', ''));
    await running(h);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    const tab = await browser.newPage();
    await tab.goto(`${origin}/`);
    const event = await tab.evaluate(async ({ gateway, key }) => {
      const res = await fetch(`${gateway}/auth/ticket`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ path: '/mcp/demo/sse' }),
      });
      const { ticket } = (await res.json()) as { ticket: string };
      return new Promise<string>((resolve, reject) => {
        const es = new EventSource(`${gateway}/mcp/demo/sse?ticket=${encodeURIComponent(ticket)}`);
        es.addEventListener('status', (e) => {
          es.close();
          resolve((e as MessageEvent).data as string);
        });
        es.onerror = () => reject(new Error('EventSource failed'));
        setTimeout(() => reject(new Error('no status event')), 10_000);
      });
    }, { gateway: h.url, key: KEY });
    expect(JSON.parse(event)).toMatchObject({ name: 'demo', state: 'running' });
  });
});
