// `mcp-gateway status` with a bearer token instead of a key, from a file (never the command line): the
// gateway-wide routes want a token whose audience is the gateway itself.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO, waitFor } from '../helpers/gateway.ts';
import { closeAuthServers, startAuthServer } from '../helpers/oidc.ts';
import { cleanup, cli, runGateway, tempDir } from '../cli/cli.ts';

afterEach(async () => {
  await cleanup();
  await closeAuthServers();
});

const KEY = 'ops-key-0123456789abcdef';

describe('mcp-gateway status with a token', () => {
  it('lists the servers for a token of the gateway; refuses one minted for a server', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'mcp-gateway.yaml');
    const manifest = (oauth: string): string =>
      `version: 1\nlisten: { host: 127.0.0.1, port: 0 }\nauth:\n  keys:\n    - { name: ops, key: ${KEY}, servers: "*", admin: true }\n${oauth}servers:\n  demo: { command: node, args: [${JSON.stringify(DEMO)}] }\n`;
    writeFileSync(file, manifest(''));
    const g = await runGateway(file);
    const as = await startAuthServer({ gatewayBase: g.url, scopes: ['mcp:admin'] });
    writeFileSync(file, manifest(`  oauth:\n    issuers: [{ issuer: "${as.issuer}" }]\n    grants: [{ claim: scope, value: "mcp:admin", servers: "*", admin: true }]\n`));
    await waitFor(async () => (await fetch(`${g.url}/.well-known/oauth-protected-resource`)).status === 200, 'auth.oauth applied', 15_000);

    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, `${await as.token({ resource: g.url, scope: 'mcp:admin' })}\n`);
    const ok = await waitFor(async () => {
      const r = await cli(['status', '--url', g.url, '--key-file', tokenFile]);
      return r.stdout.includes(' running ') ? r : undefined;
    }, 'status with a token', 10_000);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^NAME +STATE/);

    writeFileSync(tokenFile, await as.token({ resource: `${g.url}/mcp/demo/mcp`, scope: 'mcp:admin' }));
    const refused = await cli(['status', '--url', g.url, '--key-file', tokenFile]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/401/);
  });
});
