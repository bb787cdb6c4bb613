// The command line: `run` serves a manifest; `validate` and `plan` check and compare manifests without
// starting anything (for editors, CI and GitOps); `status` shows a running gateway.
import { parseArgs } from 'node:util';
import { createLogger } from '../log.ts';
import { StartupError, startGateway, VERSION } from '../gateway.ts';
import { DEFAULT_URL, parseOptions, processIo, type Io } from './args.ts';
import { planMain } from './plan.ts';
import { statusMain } from './status.ts';
import { validateMain } from './validate.ts';

const USAGE = `mcp-gateway ${VERSION}: MCP stdio servers as supervised remote services

Usage:
  mcp-gateway run [--config FILE]                   serve a manifest
  mcp-gateway validate [--json] [FILE...]           check manifests
  mcp-gateway plan FILE [--against URL|FILE] [--json]   what applying FILE would change
  mcp-gateway status [--url URL] [--json]           the servers of a running gateway
  mcp-gateway --version | --help | COMMAND --help

Exit codes: run, validate, status: 0 ok, 1 failed, 2 usage error.
            plan: 0 no changes, 2 changes, 1 error (terraform plan -detailed-exitcode).`;

const KEY_HELP = `The admin key is sent as "Authorization: Bearer KEY"; it is read from --key-file FILE (first line) or
the environment variable MCP_GATEWAY_KEY, never from the command line (every user could read it in ps).`;

const HELP: Readonly<Record<string, string>> = {
  run: `Usage: mcp-gateway run [--config FILE]

Serves the manifest FILE (default ./mcp-gateway.yaml, or MCP_GATEWAY_CONFIG) and applies edits to it while
running. PORT overrides the manifest's port; LOG_LEVEL sets the log level (default info).

Signals: SIGHUP reloads the manifest; SIGTERM/SIGINT stop accepting, stop every child and exit 0; a second
signal exits at once (1).

Exit codes: 0 stopped by a signal; 1 the manifest does not load or the address cannot be bound; 2 usage error.`,

  validate: `Usage: mcp-gateway validate [--json] [FILE...]

Checks manifests (default ./mcp-gateway.yaml) without starting anything. \${VAR} references are resolved
from the environment, so set the variables (or placeholders) the manifest uses.

  --json   one JSON document on stdout, for CI annotations:
           {"ok":false,"files":[{"file":"m.yaml","ok":false,"errors":[{"file","line","col","message"}]}]}
           (a valid file has "ok":true, "servers", "enabled" and "listen")

Without --json: a summary line per valid file on stdout, "file:line:col: message" per problem on stderr.

Exit codes: 0 every file is valid; 1 any file is not; 2 usage error.`,

  plan: `Usage: mcp-gateway plan FILE [--against URL|FILE] [--key-file FILE] [--json]

Shows what applying the manifest FILE would do, server by server, and why:
  + start   new             a server that is not running yet
  ~ restart demo (args, env.TOKEN)   a field that shapes the process changed: a new process
  ~ update  demo (requestTimeout)    settings only: applied to the running process
  - stop    old             a server the manifest no longer has
  = keep    other           unchanged, keeps its pid
  ! listen.port: 3001 → 3002 ...      a change outside servers
Env keys are named, never their values.

  --against FILE   compare with an older manifest (e.g. git show HEAD~1:mcp-gateway.yaml > /tmp/prev.yaml);
                   offline, both read as if at FILE's path, \${VAR} from this environment
  --against URL    ask a running gateway (POST URL/admin/plan with FILE's text); default MCP_GATEWAY_URL,
                   else ${DEFAULT_URL}. Needs an admin key.
  --key-file FILE  the admin key (see below)
  --json           {"ok":true,"changes":true,"plan":{"start","stop","restart","update","keep"},"notes":[]}
                   or {"ok":false,"errors":[{"file","line","col","message"} | {"message"}]}

${KEY_HELP}

Exit codes (like terraform plan -detailed-exitcode): 0 no changes; 2 changes; 1 error (a manifest does not
load, the gateway cannot be reached or refused the key, usage error).`,

  status: `Usage: mcp-gateway status [--url URL] [--key-file FILE] [--json]

Shows the servers of a running gateway (GET URL/mcp/servers): name, state, pid, restarts, time in the
current state, sessions, last error; then the manifest's reload status.

  --url URL        the gateway (default MCP_GATEWAY_URL, else ${DEFAULT_URL})
  --key-file FILE  a key, if the gateway wants one (see below)
  --json           print the gateway's answer as it came

${KEY_HELP}

Exit codes: 0 the gateway answered; 1 it cannot be reached, refused the key or answered something else;
2 usage error.`,
};

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    io.out(topic !== undefined && HELP[topic] !== undefined ? HELP[topic] : USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version') {
    io.out(VERSION);
    return 0;
  }
  if (HELP[command] === undefined) {
    io.err(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(HELP[command]);
    return 0;
  }
  switch (command) {
    case 'validate':
      return validateMain(rest, io);
    case 'plan':
      return planMain(rest, io);
    case 'status':
      return statusMain(rest, io);
    default:
      return run(rest, io);
  }
}

async function run(args: string[], io: Io): Promise<number> {
  const parsed = parseOptions(args, (a) => parseArgs({ args: a, options: { config: { type: 'string', short: 'c' } }, strict: true }));
  if (!parsed.ok) {
    io.err(`mcp-gateway run: ${parsed.message}\n\n${HELP.run}`);
    return 2;
  }
  const configFile = parsed.value.values.config ?? io.env.MCP_GATEWAY_CONFIG ?? 'mcp-gateway.yaml';
  const log = createLogger();
  let gateway;
  try {
    gateway = await startGateway({ configFile, log });
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    io.err(err.message);
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
