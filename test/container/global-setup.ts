// Once per `npm run test:container`: finds the Docker engine, builds the Node base image if it is not
// cached (node-base.ts), then builds the gateway image from the repository's Dockerfile, the way README
// says, with the base as NODE_IMAGE. Test files read the outcome with inject('container') (docker.ts).
// Teardown removes every container the tests labelled, the gateway image and the images the build left
// dangling (the build stage); the base image stays. MCP_GATEWAY_KEEP_TEST_IMAGE=1 keeps the gateway image
// and its build stage too, so that the next run builds from the layer cache.
import type { TestProject } from 'vitest/node';
import { IMAGE, LABEL, ROOT, docker, run, tail, type ContainerSetup } from './docker.ts';
import { NODE_BASE, ensureNodeBase, imageExists } from './node-base.ts';

const ENABLE = 'apt-get install -y docker.io docker-compose mmdebstrap && (dockerd >/var/log/dockerd.log 2>&1 &) (as root; .ci/run does both)';
const log = (line: string): void => console.log(`[container] ${line}`);

const dangling = async (): Promise<Set<string>> =>
  new Set((await docker('images', '-q', '--no-trunc', '--filter', 'dangling=true')).stdout.split('\n').filter((id) => id !== ''));
let danglingBefore = new Set<string>();

async function prepare(): Promise<ContainerSetup> {
  const nodeImage = process.env.MCP_GATEWAY_TEST_NODE_IMAGE ?? NODE_BASE;
  const base = { enable: ENABLE, nodeImage, buildError: undefined, buildSeconds: undefined };
  const info = await docker('info', '--format', '{{.ServerVersion}}');
  if (info.code !== 0) return { ...base, missing: `no Docker engine answers \`docker info\` (${tail(info.stderr, 1)})` };
  log(`Docker engine ${info.stdout.trim()}`);
  if (nodeImage === NODE_BASE && !(await imageExists(NODE_BASE))) {
    if ((await run('sh', ['-c', 'command -v mmdebstrap'])).code !== 0) {
      return { ...base, missing: `mmdebstrap is not installed (needed once, to build the stand-in base image ${NODE_BASE})` };
    }
    try {
      const seconds = await ensureNodeBase(log);
      log(`base image ${NODE_BASE} built in ${seconds?.toFixed(1)} s`);
    } catch (err) {
      return { ...base, missing: undefined, buildError: (err as Error).message };
    }
  } else log(`base image ${nodeImage}: cached`);
  danglingBefore = await dangling();
  const started = Date.now();
  // --network host: npm ci and apt-get reach their registries through the host's network.
  // A cold build (npm ci in both stages, apt-get in one) on a new machine: longer than other commands may take.
  const build = await run('docker', ['build', '--network', 'host', '--build-arg', `NODE_IMAGE=${nodeImage}`, '--label', `${LABEL}=1`, '-t', IMAGE, ROOT], { timeoutMs: 20 * 60_000 });
  const buildSeconds = (Date.now() - started) / 1000;
  if (build.code !== 0) return { ...base, missing: undefined, buildError: tail(build.stdout + build.stderr) };
  log(`gateway image ${IMAGE} built in ${buildSeconds.toFixed(1)} s`);
  return { ...base, missing: undefined, buildSeconds };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const setup = await prepare();
  project.provide('container', setup);
  return async () => {
    if (setup.missing !== undefined) return;
    // Whatever a test left behind (a failed afterAll, an interrupted run of this process): only what carries
    // the tests' label.
    const containers = (await docker('ps', '-aq', '--filter', `label=${LABEL}`)).stdout.split('\n').filter((id) => id !== '');
    if (containers.length > 0) await docker('rm', '-f', ...containers);
    if (process.env.MCP_GATEWAY_KEEP_TEST_IMAGE !== '1') {
      await docker('rmi', IMAGE);
      const left = [...(await dangling())].filter((id) => !danglingBefore.has(id));
      if (left.length > 0) await docker('rmi', ...left);
    }
    log(`all container tests, build included: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  };
}
