// The V8 heap settings of the gateway, however it is started. `npm start`, the shebang of mcp-gateway.js
// and the systemd unit pass them on node's command line; `node bin/mcp-gateway.js run` passes none, so
// `run` starts itself again with them (relaunch below). Plain JavaScript: it runs before tsx or dist/ is
// loaded, and the parent of a relaunch loads nothing else.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** The flags (see README, "Performance"); test/lifecycle/heap-flags.test.ts checks every start path has them. */
export const HEAP_FLAGS = ['--max-semi-space-size=2', '--max-old-space-size=256'];

/** Set to 1 to run with whatever heap node was given (no relaunch). */
export const NO_RELAUNCH_ENV = 'MCP_GATEWAY_NO_REEXEC';

/** Signals a terminal, systemd or a supervisor sends that the gateway acts on; the parent passes each on. */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const optionName = (arg) => arg.split('=')[0].replace(/_/g, '-');

/**
 * The HEAP_FLAGS whose option is set neither on node's command line (`execArgv`) nor in NODE_OPTIONS:
 * an operator's own `--max-old-space-size=1024` wins over ours. V8 takes `_` for `-` in option names.
 */
export function missingHeapFlags(execArgv, nodeOptions = '') {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter((a) => a.startsWith('--')).map(optionName));
  return HEAP_FLAGS.filter((f) => !given.has(optionName(f)));
}

/**
 * Runs `script args` again in a node with `flags` added; this process then only waits for it (its caller
 * must start nothing else). Contract:
 * - the child is in a process group (and session) of its own, so a terminal's Ctrl-C reaches it once,
 *   through this parent, and never twice (terminal + forward: a second SIGINT means "exit at once");
 * - SIGINT, SIGTERM and SIGHUP sent to this parent are passed on, one for one (a second Ctrl-C is a
 *   second signal; every SIGHUP is a reload), as messages on the IPC channel, not as signals: a service
 *   manager that signals every process of the unit reaches the child directly too, and a second real
 *   SIGTERM landing while node tears the child down (its handlers gone) would kill it instead of a clean
 *   exit 0; a message never kills. Without the channel (it closed), the signal itself;
 * - this parent exits with the child's exit code, or dies of the signal that killed the child;
 * - an IPC channel joins them: when this parent dies (even by SIGKILL) the channel closes and the child
 *   shuts down as on SIGTERM (src/cli/main.ts), so no gateway outlives whoever started it.
 */
export function relaunch(flags, script, args) {
  const child = spawn(process.execPath, [...process.execArgv, ...flags, script, ...args], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  const forward = (signal) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) {
      // The child reads it as the signal (src/cli/main.ts); a channel closing meanwhile is no error.
      child.send({ signal }, (err) => void (err && child.exitCode === null && child.signalCode === null && child.kill(signal)));
    } else child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  child.once('error', (err) => {
    process.stderr.write(`mcp-gateway: cannot start node with ${flags.join(' ')}: ${err.message}\n`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    for (const s of FORWARDED) process.off(s, forward);
    if (signal === null) process.exit(code ?? 1);
    // The same end as the child's, for whoever waits on this pid; the shell's code if the signal is one
    // whose default is to be ignored.
    process.exitCode = 128 + (constants.signals[signal] ?? 0);
    process.kill(process.pid, signal);
  });
}
