// A local stand-in for the official Node.js image, for machines that reach no image registry (here: the npm
// registry and Debian's mirrors only). Like node:<v>-bookworm-slim: Debian 12 (mmdebstrap's minbase: apt,
// no docs), this machine's node binary in /usr/local/bin with npm beside it, and a `node` user with uid
// 1000. Built once and kept (the tag names the node version); later runs find the tag and skip all of it.
import { copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { docker, ok, run, tail } from './docker.ts';

export const NODE_BASE = `mcp-gateway-test/node-base:${process.versions.node}`;
const DEBIAN = 'mcp-gateway-test/debian:bookworm-minbase';
const MIRRORS = [
  'deb http://deb.debian.org/debian bookworm main',
  'deb http://deb.debian.org/debian bookworm-updates main',
  'deb http://deb.debian.org/debian-security bookworm-security main',
];
// The host's CA bundle: this machine reaches the npm registry through a TLS-inspecting proxy whose CA is
// in it, and node (npm) in the image must trust it as node here does (NODE_EXTRA_CA_CERTS below).
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

const DOCKERFILE = `FROM ${DEBIAN}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt ${CA_BUNDLE}
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}
CMD ["node"]
`;

export async function imageExists(tag: string): Promise<boolean> {
  return (await docker('image', 'inspect', '--format', '{{.Id}}', tag)).code === 0;
}

/** Builds the stand-in unless its tag exists; the seconds it took, or undefined when it was there. */
export async function ensureNodeBase(log: (line: string) => void): Promise<number | undefined> {
  if (await imageExists(NODE_BASE)) return undefined;
  const started = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-node-base-'));
  try {
    if (!(await imageExists(DEBIAN))) {
      log(`building ${DEBIAN} with mmdebstrap (once; about a minute)`);
      const tar = path.join(dir, 'rootfs.tar');
      await ok(run('mmdebstrap', ['--variant=minbase', '--include=ca-certificates', '--quiet', 'bookworm', tar, ...MIRRORS], { timeoutMs: 20 * 60_000 }), 'mmdebstrap');
      await ok(docker('import', tar, DEBIAN), 'docker import');
      rmSync(tar);
    }
    log(`building ${NODE_BASE} from this machine's node (${process.execPath})`);
    const ctx = path.join(dir, 'context');
    const npmRoot = (await ok(run('npm', ['root', '-g']), 'npm root -g')).trim();
    cpSync(path.join(npmRoot, 'npm'), path.join(ctx, 'npm'), { recursive: true, verbatimSymlinks: true });
    copyFileSync(process.execPath, path.join(ctx, 'node'));
    copyFileSync(CA_BUNDLE, path.join(ctx, 'ca-certificates.crt'));
    writeFileSync(path.join(ctx, 'Dockerfile'), DOCKERFILE);
    const build = await run('docker', ['build', '-t', NODE_BASE, ctx], { timeoutMs: 20 * 60_000 });
    if (build.code !== 0) throw new Error(`docker build of ${NODE_BASE} failed:\n${tail(build.stdout + build.stderr)}`);
    return (Date.now() - started) / 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
