// The V8 heap settings reach the gateway however it is started: `npm start`'s flags, the shebang, the
// systemd unit, and `node bin/mcp-gateway.js run` (which relaunches node with them). Real processes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HEAP_FLAGS, NO_RELAUNCH_ENV, missingHeapFlags } from '../../bin/heap-flags.js';
import { DEMO, ROOT } from '../helpers/gateway.ts';
import { START_FLAGS, spawnGateway, type GatewayProcess } from '../helpers/process-gateway.ts';

const started: GatewayProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((g) => g.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function manifestFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-heap-'));
  dirs.push(dir);
  const file = path.join(dir, 'mcp-gateway.yaml');
  writeFileSync(file, `version: 1\nlisten: { host: 127.0.0.1, port: 0 }\nservers:\n  demo:\n    command: node\n    args: [${JSON.stringify(DEMO)}]\n`);
  return file;
}

async function start(file: string, nodeFlags: string[], env: Record<string, string> = {}): Promise<GatewayProcess> {
  const g = await spawnGateway(['-c', file], env, nodeFlags);
  started.push(g);
  return g;
}

const listening = (g: GatewayProcess): { heapLimitMb: number; pid: number } => JSON.parse(g.out.find((l) => l.includes('"msg":"listening"'))!);

async function heapGauge(g: GatewayProcess): Promise<number> {
  const text = await (await fetch(`${g.url}/metrics`)).text();
  return Number(/^mcp_gateway_heap_limit_bytes (\S+)$/m.exec(text)![1]);
}

describe('HEAP_FLAGS', () => {
  it('are the flags of npm start, of the bin shebang, of the systemd unit, of the PM2 ecosystem file and of the container image', () => {
    expect(START_FLAGS).toEqual(HEAP_FLAGS);
    const shebang = readFileSync(path.join(ROOT, 'bin', 'mcp-gateway.js'), 'utf8').split('\n', 1)[0]!;
    expect(shebang).toBe(`#!/usr/bin/env -S node ${HEAP_FLAGS.join(' ')}`);
    const unit = readFileSync(path.join(ROOT, 'systemd', 'mcp-gateway.service'), 'utf8');
    expect(/^ExecStart=\S+ (.*) \S+mcp-gateway\.js run/m.exec(unit)?.[1]).toBe(HEAP_FLAGS.join(' '));
    // PM2 (test/deploy/pm2.test.ts runs it); `service install` units: test/cli/service-unit.test.ts.
    const ecosystem = createRequire(import.meta.url)(path.join(ROOT, 'ecosystem.config.cjs')) as { apps: { node_args: string[] }[] };
    expect(ecosystem.apps.map((a) => a.node_args)).toEqual([HEAP_FLAGS]);
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(entrypoint.slice(entrypoint.indexOf('node') + 1, -1)).toEqual(HEAP_FLAGS);
  });
});

describe('missingHeapFlags', () => {
  it('names the flags whose option is not given, on the command line or in NODE_OPTIONS', () => {
    expect(missingHeapFlags([])).toEqual(HEAP_FLAGS);
    expect(missingHeapFlags([...HEAP_FLAGS])).toEqual([]);
    expect(missingHeapFlags(['--max-old-space-size=1024'])).toEqual(['--max-semi-space-size=2']);
    expect(missingHeapFlags(['--max_old_space_size=1024', '--max-semi-space-size', '8'])).toEqual([]);
    expect(missingHeapFlags(['--inspect'], '--max-old-space-size=512 --max-semi-space-size=4')).toEqual([]);
    expect(missingHeapFlags([], '--max-old-space-size=512')).toEqual(['--max-semi-space-size=2']);
  });
});

describe('mcp-gateway run: the heap limit', () => {
  it('started as `node bin/mcp-gateway.js run`, it has the heap limit of `npm start`, in the log and the metrics', async () => {
    const file = manifestFile();
    const shipped = await start(file, START_FLAGS);
    const bare = await start(file, []);
    const { heapLimitMb } = listening(shipped);
    expect(listening(bare).heapLimitMb).toBe(heapLimitMb);
    expect(await heapGauge(bare)).toBe(await heapGauge(shipped));
    expect(Math.round((await heapGauge(bare)) / 2 ** 20)).toBe(heapLimitMb);
    // It serves from the relaunched process, not the one that was started.
    expect(listening(bare).pid).not.toBe(bare.proc.pid);
    expect(listening(shipped).pid).toBe(shipped.proc.pid);
  });

  it(`does not relaunch with ${NO_RELAUNCH_ENV}=1 or with heap flags of its own`, async () => {
    const file = manifestFile();
    const shipped = listening(await start(file, START_FLAGS)).heapLimitMb;
    const optOut = await start(file, [], { [NO_RELAUNCH_ENV]: '1' });
    expect(listening(optOut).pid).toBe(optOut.proc.pid);
    // node's own default limit depends on the machine's memory; it is not the shipped one here.
    expect(listening(optOut).heapLimitMb).not.toBe(shipped);
    const own = await start(file, ['--max-old-space-size=300']);
    expect(listening(own).pid).not.toBe(own.proc.pid); // the semi-space flag was still missing
    expect(listening(own).heapLimitMb).toBeGreaterThan(shipped); // and the operator's old space stays
  });
});
