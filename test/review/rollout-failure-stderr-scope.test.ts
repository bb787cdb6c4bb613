// Review: a failed rollout's stderr tail is the new child's log. GET /mcp/:server/stderr shows a child's log
// to admin keys only; GET /mcp/servers (and the status page, same view) must not show it to a key that may
// merely use the server.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, demoServer, manifest, startHarness, waitFor } from '../helpers/gateway.ts';
import { statusOf } from './helpers.ts';

afterEach(closeAll);
const sha = (k: string): string => createHash('sha256').update(k).digest('hex');
const USER = 'review-user-key-0123456789abcdef';
const ADMIN = 'review-admin-key-0123456789abcdef';
const head = `auth:\n  keys:\n    - { name: user, sha256: ${sha(USER)}, servers: [demo] }\n    - { name: admin, sha256: ${sha(ADMIN)}, servers: "*", admin: true }\n`;

describe('rolloutFailure.stderr', () => {
  it('is shown to an admin key and not to a non-admin key scoped to the server', async () => {
    const h = await startHarness(manifest(demoServer('demo', '    env: { GREETING: one }\n'), head));
    await waitFor(async () => (await statusOf(h, 'demo', ADMIN))?.state === 'running', 'demo running');
    h.write(manifest(`  demo:\n    command: node\n    args: ["-e", "console.error('db password is hunter2'); process.exit(3)"]\n`, head));
    const admin = await waitFor(async () => (await statusOf(h, 'demo', ADMIN))?.rolloutFailure ?? undefined, 'the failure shown', 15_000);
    expect(admin.stderr).toContain('db password is hunter2');
    expect((await fetch(`${h.url}/mcp/demo/stderr`, { headers: { authorization: `Bearer ${USER}` } })).status).toBe(403);
    const user = await statusOf(h, 'demo', USER);
    expect(user.rolloutFailure).toMatchObject({ reason: 'RolloutFailed', error: 'exited before answering initialize (code 3)' });
    expect(JSON.stringify(user)).not.toContain('hunter2');
  });
});
