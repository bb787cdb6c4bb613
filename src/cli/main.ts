// The command line: `run` serves a manifest, `validate` checks manifests without starting anything.
import { createLogger } from '../log.ts';
import { StartupError, startGateway, VERSION } from '../gateway.ts';
import { validateCommand } from './validate.ts';

const USAGE = `mcp-gateway ${VERSION}: MCP stdio servers as supervised remote services

Usage:
  mcp-gateway run [--config FILE]     serve the manifest (default ./mcp-gateway.yaml, or MCP_GATEWAY_CONFIG)
  mcp-gateway validate [FILE...]      check manifests; prints file:line:col: message for each problem
  mcp-gateway --version | --help

Exit codes: 0 ok; 1 invalid manifest or failed start; 2 usage error.
Signals (run): SIGHUP reloads the manifest; SIGTERM/SIGINT stop every child and exit 0.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    case '--version':
      console.log(VERSION);
      return 0;
    case 'validate':
      if (rest.includes('--help')) return help();
      return validateCommand(rest, (l) => console.log(l), (l) => console.error(l));
    case 'run':
      if (rest.includes('--help')) return help();
      return run(rest);
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

function help(): number {
  console.log(USAGE);
  return 0;
}

async function run(args: string[]): Promise<number> {
  let configFile = process.env.MCP_GATEWAY_CONFIG ?? 'mcp-gateway.yaml';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--config' || a === '-c') configFile = args[++i] ?? '';
    else if (a.startsWith('--config=')) configFile = a.slice('--config='.length);
    else {
      console.error(`unknown option "${a}"\n\n${USAGE}`);
      return 2;
    }
  }
  const log = createLogger();
  let gateway;
  try {
    gateway = await startGateway({ configFile, log });
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    console.error(err.message);
    log.flush();
    return 1;
  }
  const g = gateway;
  process.on('SIGHUP', () => {
    log.info({ signal: 'SIGHUP' }, 'reload requested');
    void g.reconciler.reload('signal');
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting at once');
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'shutting down');
      void g.close().then(() => {
        log.info({}, 'stopped');
        log.flush();
        resolve(0);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
