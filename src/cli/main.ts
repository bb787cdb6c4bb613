// The command line: `run` serves a manifest; `validate` and `plan` check and compare manifests without
// starting anything (for editors, CI and GitOps); `status` shows a running gateway; `service` writes the
// systemd unit that runs it.
// Each command's modules are imported when it runs: status needs no YAML or schema compiler, and none but
// run needs the gateway (Koa, pino, chokidar); a short command then starts in a fraction of the time.
import { parseArgs } from 'node:util';
import { DEFAULT_URL, parseOptions, processIo, type Io } from './args.ts';

const usage = (version: string): string => `mcp-gateway ${version}: MCP stdio servers as supervised remote services

Usage:
  mcp-gateway run [--config FILE]                   serve a manifest
  mcp-gateway validate [--json] [FILE...]           check manifests
  mcp-gateway plan FILE [--against URL|FILE] [--json]   what applying FILE would change
  mcp-gateway status [--url URL] [--json]           the servers of a running gateway
  mcp-gateway hash-key [--generate] < KEY           the sha256 of a key, for auth.keys[].sha256
  mcp-gateway service install [--user] [--config FILE] [--dry-run]   a systemd unit that runs it
  mcp-gateway service uninstall [--user] [--dry-run]
  mcp-gateway --version | --help | COMMAND --help

Exit codes: run, validate, status, hash-key, service: 0 ok, 1 failed, 2 usage error.
            plan: 0 no changes, 2 changes, 1 error (terraform plan -detailed-exitcode).`;

const KEY_HELP = `The admin key is sent as "Authorization: Bearer KEY"; it is read from --key-file FILE (first line) or
the environment variable MCP_GATEWAY_KEY, never from the command line (every user could read it in ps).`;

const HELP: Readonly<Record<string, string>> = {
  run: `Usage: mcp-gateway run [--config FILE]

Serves the manifest FILE (default ./mcp-gateway.yaml, or MCP_GATEWAY_CONFIG) and applies edits to it while
running. PORT overrides the manifest's port; LOG_LEVEL sets the log level (default info).

Signals: SIGHUP reloads the manifest; SIGTERM/SIGINT stop accepting, let requests in flight finish (up to
listen.shutdownGrace), stop every child and exit 0; a second signal kills every child (SIGKILL to its
process group) and exits at once (1).

Heap: run gets node's V8 flags --max-semi-space-size=2 --max-old-space-size=256 however it is started;
without them on node's command line (or in NODE_OPTIONS) it starts itself again with them and passes
signals on (MCP_GATEWAY_NO_REEXEC=1: run with the heap node was given).

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

  'hash-key': `Usage: mcp-gateway hash-key [--generate] < KEYFILE

Prints the hex sha256 of a key, for auth.keys[].sha256 in the manifest (safe to commit: the gateway keeps
only hashes). The key is read from stdin (its first line, trimmed), never from the command line:
  mcp-gateway hash-key < key.txt
  printf %s "$KEY" | mcp-gateway hash-key

  --generate   make a new random key (32 random bytes, base64url) instead, and print
               "key: KEY" and "sha256: HASH" (give the key to its user; commit the hash)

Exit codes: 0 ok; 1 no usable key on stdin (empty, shorter than 16 characters, or with spaces); 2 usage
error (also when stdin is a terminal: pipe the key in).`,

  service: `Usage: mcp-gateway service install [--user] [--config FILE] [--dry-run]
       mcp-gateway service uninstall [--user] [--dry-run]

install writes a systemd unit that runs this gateway by absolute paths: the node running this command
(systemd does not see the PATH that nvm, fnm or volta set up), this package's bin/mcp-gateway.js and the
manifest FILE (default ./mcp-gateway.yaml, or MCP_GATEWAY_CONFIG; it must load), with the heap flags,
ExecReload sending SIGHUP, KillMode=mixed, and TimeoutStopSec 1.5 × the manifest's worst-case stop
(shutdownGrace + 1 s + 2 × stopTimeout), at least 45 s. It runs no systemctl command: it prints them.

  (default)  /etc/systemd/system/mcp-gateway.service, as root; the service runs as a dynamic user with the
             hardening of systemd/mcp-gateway.service, so node, the package and the manifest must be
             readable by every user, and not under /tmp (it gets a private /tmp)
  --user     \$XDG_CONFIG_HOME/systemd/user/mcp-gateway.service (default ~/.config/systemd/user/): runs as
             you, WantedBy=default.target; \`loginctl enable-linger \$USER\` starts it at boot without a login
  --dry-run  print the unit on stdout and the path on stderr; write nothing

A unit already there is replaced only when install wrote it (it carries a marker line). After switching
node versions, run install again.

uninstall removes the unit install wrote, never another file, and prints the commands to stop it and
reload systemd. It refuses while the unit is enabled (\`systemctl disable\` needs the file): disable first.

Exit codes: 0 done (dry run: would be done); 1 refused (the manifest does not load, not root, a unit install
did not write, still enabled, a path the dynamic user cannot read); 2 usage error.`,
};

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    io.out(topic !== undefined && HELP[topic] !== undefined ? HELP[topic] : usage(await version()));
    return command === undefined ? 2 : 0;
  }
  if (command === '--version') {
    io.out(await version());
    return 0;
  }
  if (HELP[command] === undefined) {
    io.err(`unknown command "${command}"\n\n${usage(await version())}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(HELP[command]);
    return 0;
  }
  switch (command) {
    case 'validate':
      return (await import('./validate.ts')).validateMain(rest, io);
    case 'plan':
      return (await import('./plan.ts')).planMain(rest, io);
    case 'status':
      return (await import('./status.ts')).statusMain(rest, io);
    case 'hash-key':
      return hashKey(rest, io);
    case 'service':
      return (await import('./service.ts')).serviceMain(rest, io);
    default:
      return run(rest, io);
  }
}

async function hashKey(args: string[], io: Io): Promise<number> {
  const parsed = parseOptions(args, (a) => parseArgs({ args: a, options: { generate: { type: 'boolean' } }, strict: true }));
  if (!parsed.ok) {
    io.err(`mcp-gateway hash-key: ${parsed.message}`);
    return 2;
  }
  const { createHash, randomBytes } = await import('node:crypto');
  const sha256 = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');
  if (parsed.value.values.generate === true) {
    const key = randomBytes(32).toString('base64url');
    io.out(`key: ${key}`);
    io.out(`sha256: ${sha256(key)}`);
    return 0;
  }
  if (process.stdin.isTTY) {
    io.err('mcp-gateway hash-key: pipe the key in (mcp-gateway hash-key < key.txt): typed here, it would show on the screen');
    return 2;
  }
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  // Trimmed like a key file, and as the gateway reads "Bearer <key>": no spaces inside.
  const key = (text.split(/\r?\n/, 1)[0] ?? '').trim();
  if (key.length < 16 || /\s/.test(key)) {
    io.err(`mcp-gateway hash-key: ${key === '' ? 'no key on stdin' : /\s/.test(key) ? 'a key cannot contain spaces (it travels as "Bearer <key>")' : 'a key needs at least 16 characters'}`);
    return 1;
  }
  io.out(sha256(key));
  return 0;
}

async function version(): Promise<string> {
  return (await import('../gateway.ts')).VERSION;
}

/** Two stop signals closer than this are one stop delivered twice (see `stop` in run). */
const SAME_STOP_MS = 250;

async function run(args: string[], io: Io): Promise<number> {
  const { StartupError, startGateway } = await import('../gateway.ts');
  const { killChildGroupsNow } = await import('../supervisor/child-process.ts');
  const { createLogger, endLog } = await import('../log.ts');
  const parsed = parseOptions(args, (a) => parseArgs({ args: a, options: { config: { type: 'string', short: 'c' } }, strict: true }));
  if (!parsed.ok) {
    io.err(`mcp-gateway run: ${parsed.message}\n\n${HELP.run}`);
    return 2;
  }
  const configFile = parsed.value.values.config ?? io.env.MCP_GATEWAY_CONFIG ?? 'mcp-gateway.yaml';
  const log = createLogger();
  // Signals are handled from the start, not once the gateway is up: SIGHUP's default action kills the
  // process, and `systemctl reload` may come while it boots (Type=exec calls it started at once); a SIGTERM
  // then must still stop the children, which run in process groups of their own.
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  let reloadWanted = false;
  let stopping = false;
  let exit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => (exit = resolve));
  const close = (g: NonNullable<typeof gateway>): void =>
    void g.close().then(async () => {
      log.info({}, 'stopped');
      await endLog(log);
      exit(0);
    });
  const hup = (): void => {
    log.info({ signal: 'SIGHUP' }, 'reload requested');
    if (gateway === undefined) reloadWanted = true;
    else void gateway.reconciler.reload('signal');
  };
  process.on('SIGHUP', hup);
  let firstStopAt = 0;
  let firstStopVia: 'direct' | 'parent' = 'direct';
  const stop = (signal: NodeJS.Signals | 'parent gone', via: 'direct' | 'parent' = 'direct'): void => {
    // The same stop delivered twice, not a second one: a service manager that signals every process of
    // the service reaches this process both directly and through a relaunching parent (bin/heap-flags.js,
    // as a message), however far apart under load. A person's second Ctrl-C comes the same way as the first
    // (a terminal reaches only the parent), and later than a direct signal's own echo.
    if (stopping && (via !== firstStopVia || performance.now() - firstStopAt < SAME_STOP_MS)) return void log.debug({ signal, via }, 'the same stop signal again; ignored');
    if (stopping) {
      // Synchronous, before exit: children live in process groups of their own and would outlive us.
      const groups = killChildGroupsNow();
      log.warn({ signal, killedGroups: groups }, 'second signal: children killed, exiting at once');
      log.flush();
      process.exit(1);
    }
    stopping = true;
    firstStopAt = performance.now();
    firstStopVia = via;
    log.info({ signal }, 'shutting down');
    if (gateway !== undefined) close(gateway);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (process.channel !== undefined) {
    // Started with an IPC channel (bin/heap-flags.js relaunched us): the channel closes when that parent
    // dies, even by SIGKILL, and then nobody would stop us. The channel alone must not keep us running.
    process.channel.unref();
    process.once('disconnect', () => void (stopping || stop('parent gone')));
    // Signals the parent was sent, passed on as messages (a message never kills, a second signal could).
    process.on('message', (m: unknown) => {
      const signal = typeof m === 'object' && m !== null && 'signal' in m ? (m as { signal: unknown }).signal : undefined;
      if (signal === 'SIGHUP') hup();
      else if (signal === 'SIGTERM' || signal === 'SIGINT') stop(signal, 'parent');
    });
  }
  try {
    gateway = await startGateway({ configFile, log });
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    io.err(err.message);
    log.flush();
    return 1;
  }
  if (stopping) close(gateway);
  else if (reloadWanted) void gateway.reconciler.reload('signal');
  return exited;
}
