import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { needTool } from '../helpers/tools.ts';
import { ROOT, closeAll, demoServer, manifest, running, startHarness } from '../helpers/gateway.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let browser: Browser | undefined;

afterEach(async () => {
  await browser?.close();
  browser = undefined;
  await closeAll();
});

describe('status page', () => {
  it('shows the servers live, and a restart clicked there changes the pid without a reload', async (ctx) => {
    needTool(ctx, { name: 'Chromium', missing: existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (CHROMIUM_PATH names another)`, enable: 'apt-get install -y chromium' });
    const h = await startHarness(manifest(demoServer('demo') + demoServer('other', '    prefix: o\n') + demoServer('lazy', '    start: on-demand\n'), 'endpoints:\n  ops: { servers: [other], description: "for the ops agent" }\n'));
    const first = await running(h.url, 'demo');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    await page.goto(`${h.url}/`);
    const row = page.locator('tr[data-server="demo"]');
    await expect.poll(() => row.locator('.badge').textContent()).toBe('running');
    expect(await row.locator('td.pid').textContent()).toBe(String(first.pid));
    expect(await row.locator('td.last-start').textContent()).toMatch(/^\d+s ago$/);
    // An on-demand server never used: idle, no pid, never started.
    const lazy = page.locator('tr[data-server="lazy"]');
    expect(await lazy.locator('.badge').textContent()).toBe('idle');
    expect(await lazy.locator('td.pid').textContent()).toBe('–');
    expect(await lazy.locator('td.last-start').textContent()).toBe('–');
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42)); // gone if the page reloads

    await row.locator('button[name="restart"]').click();
    await expect.poll(async () => {
      const pid = await page.locator('tr[data-server="demo"] td.pid').textContent();
      const state = await page.locator('tr[data-server="demo"] .badge').textContent();
      return state === 'running' && pid !== String(first.pid);
    }, { timeout: 10_000 }).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    expect(await page.locator('#manifest-state').textContent()).toBe('ok');
    // The aggregate endpoint and the bundle, with what each shows.
    expect(await page.locator('tr[data-endpoint="/mcp"] td').nth(1).textContent()).toBe('demo, lazy, other as o');
    expect(await page.locator('tr[data-endpoint="/mcp/@ops"] td').allTextContents()).toEqual(['/mcp/@ops', 'other as o', 'for the ops agent']);

    const dir = path.join(ROOT, 'test-results');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, 'status-page.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});

describe('status page with a bearer token', () => {
  it('takes a token in the key field as it takes a key, and shows the servers it grants', async (ctx) => {
    needTool(ctx, { name: 'Chromium', missing: existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (CHROMIUM_PATH names another)`, enable: 'apt-get install -y chromium' });
    const { gatewayTrusting } = await import('../auth/oauth-setup.ts');
    const { closeAuthServers } = await import('../helpers/oidc.ts');
    try {
      const { h, as } = await gatewayTrusting({ scopes: ['mcp:a'], grants: ['{ claim: scope, value: "mcp:a", servers: [a] }'] });
      // The status page is the gateway's own: the token's audience is the gateway itself.
      const token = await as.token({ resource: h.url, scope: 'mcp:a' });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
      const page = await browser.newPage();
      await page.goto(`${h.url}/`);
      await page.fill('#key', token);
      await page.click('#key-form button[type="submit"]');
      await expect.poll(() => page.locator('tr[data-server="a"] .badge').textContent(), { timeout: 10_000 }).toBe('running');
      // Only what the token grants: server a, not b.
      expect(await page.locator('tr[data-server="b"]').count()).toBe(0);
    } finally {
      await closeAuthServers();
    }
  });
});
