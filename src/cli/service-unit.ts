// The systemd unit of the gateway, as text: one pure function makes the shipped templates
// (systemd/mcp-gateway.service, systemd/mcp-gateway.user.service) and the units `mcp-gateway service
// install` writes, so a hardening or stop setting is changed in one place. test/systemd/units.test.ts
// checks the shipped files are this function's output (scripts/systemd-units.ts rewrites them).
import { HEAP_FLAGS } from '../../bin/heap-flags.js';

/** system: /etc/systemd/system, run as a dynamic user. user: a user manager's unit, run as that user. */
export type UnitScope = 'system' | 'user';

export interface UnitSpec {
  readonly scope: UnitScope;
  /**
   * template: the file shipped in systemd/, with its install instructions; paths are written as given
   * (specifiers such as %h allowed). installed: written by `service install`, with INSTALLED_MARKER; paths
   * are file-system paths, quoted and escaped for systemd.
   */
  readonly origin: 'template' | 'installed';
  /** Absolute path of node: systemd does not see the PATH that nvm, fnm or volta set up in a shell. */
  readonly node: string;
  /** Absolute path of bin/mcp-gateway.js. */
  readonly bin: string;
  /** Absolute path of the manifest. */
  readonly manifest: string;
  /** The package's folder (Documentation= names its README). */
  readonly root: string;
  /** From stopTimeoutSec. */
  readonly timeoutStopSec: number;
  /** PATH for the gateway and its children (servicePath), when systemd's own would miss node's folder. */
  readonly path?: string;
}

/**
 * The line `service install` writes into every unit and `service uninstall` looks for: a unit without it
 * was written by someone else and is never overwritten or removed.
 */
export const INSTALLED_MARKER = '# Written by `mcp-gateway service install`; `mcp-gateway service uninstall` removes it.';

export const UNIT_NAME = 'mcp-gateway.service';

/** The files in systemd/ made by serviceUnit (the GitOps timer and its service are written by hand). */
export const SHIPPED_UNITS: readonly { readonly file: string; readonly spec: UnitSpec }[] = [
  {
    file: 'mcp-gateway.service',
    spec: {
      scope: 'system',
      origin: 'template',
      node: '/usr/bin/node',
      bin: '/opt/mcp-gateway/bin/mcp-gateway.js',
      manifest: '/etc/mcp-gateway/mcp-gateway.yaml',
      root: '/opt/mcp-gateway',
      timeoutStopSec: 45,
    },
  },
  {
    file: 'mcp-gateway.user.service',
    spec: {
      scope: 'user',
      origin: 'template',
      node: '/usr/bin/node',
      bin: '%h/mcp-gateway/bin/mcp-gateway.js',
      manifest: '%h/mcp-gateway/mcp-gateway.yaml',
      root: '%h/mcp-gateway',
      timeoutStopSec: 45,
    },
  },
];

/** TimeoutStopSec when the manifest keeps the defaults, and the least it ever is. */
export const MIN_TIMEOUT_STOP_SEC = 45;

/**
 * TimeoutStopSec for a manifest: 1.5 × the gateway's worst-case stop (shutdownGrace for requests in flight,
 * then per child 1 s after stdin closes, stopTimeout after SIGTERM, stopTimeout for grandchildren; children
 * stop in parallel), and at least MIN_TIMEOUT_STOP_SEC, which also leaves room for servers a later edit adds.
 */
export function stopTimeoutSec(shutdownGraceMs: number, stopTimeoutsMs: readonly number[]): number {
  const worstMs = shutdownGraceMs + 1000 + 2 * Math.max(0, ...stopTimeoutsMs);
  return Math.max(MIN_TIMEOUT_STOP_SEC, Math.ceil((worstMs * 1.5) / 1000));
}

/** The PATH a systemd manager gives a service when nothing sets one (merged /usr or not). */
export const SYSTEMD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * PATH for a service run by `node`: its folder first, so children started as `node`, `npx` or `npm` get
 * the same node; undefined when systemd's own PATH already holds that folder.
 */
export function servicePath(node: string): string | undefined {
  const dir = node.slice(0, node.lastIndexOf('/')) || '/';
  return SYSTEMD_PATH.split(':').includes(dir) ? undefined : `${dir}:${SYSTEMD_PATH}`;
}

/**
 * A command line as systemd reads it: `%` escaped in every word (specifiers), `$` in the arguments (systemd
 * expands variables there, not in the program's path), and a word in double quotes when it holds a space,
 * quote or backslash.
 */
export function execLine(words: readonly string[]): string {
  return words.map((w, i) => quoted(i === 0 ? w.replace(/%/g, '%%') : w.replace(/%/g, '%%').replace(/\$/g, '$$$$'))).join(' ');
}

/** An Environment= assignment: `%` escaped (Environment= expands specifiers, not variables), quoted as needed. */
export function environmentWord(assignment: string): string {
  return quoted(assignment.replace(/%/g, '%%'));
}

/** In double quotes, with `\` and `"` escaped, when the word holds a space, quote or backslash. */
function quoted(word: string): string {
  return /[\s"'\\]/.test(word) ? `"${word.replace(/[\\"]/g, (c) => `\\${c}`)}"` : word;
}

/** The unit file's text. Pure: the same spec always gives the same bytes. */
export function serviceUnit(spec: UnitSpec): string {
  const user = spec.scope === 'user';
  const words = [spec.node, ...HEAP_FLAGS, spec.bin, 'run', '--config', spec.manifest];
  const exec = spec.origin === 'installed' ? execLine(words) : words.join(' ');
  const readme = `file:${spec.origin === 'installed' ? encodeURI(`${spec.root}/README.md`).replace(/%/g, '%%') : `${spec.root}/README.md`}`;
  return [
    ...header(spec),
    '',
    '[Unit]',
    'Description=mcp-gateway: MCP stdio servers as supervised HTTP services',
    `Documentation=${readme}`,
    // A user manager has no network-online.target (it sees only user units).
    ...(user ? [] : ['After=network-online.target', 'Wants=network-online.target']),
    '# Five failed starts within a minute and systemd stops trying (see Restart= below).',
    'StartLimitIntervalSec=60',
    'StartLimitBurst=5',
    '',
    '[Service]',
    '# Type=exec, not notify: READY=1 is a datagram on the AF_UNIX socket in $NOTIFY_SOCKET, and Node\'s core',
    '# has no unix datagram sockets (a native addon would). Sending it through `systemd-notify` from a child',
    '# is ignored when the helper exits before systemd has matched its pid to this unit (documented as racy).',
    '# So systemd counts the service started once node is executed; whoever must wait for readiness polls',
    '# GET /readyz (200 once the first manifest is applied), e.g. `curl -sf --retry 30 --retry-connrefused`.',
    'Type=exec',
    ...(spec.origin === 'template'
      ? ['# The same V8 flags as `npm start` (see README, "Performance"). Adjust the node path (`command -v node`).']
      : [
          '# The same V8 flags as `npm start` (see README, "Performance"). node is the one that ran `service install`,',
          '# by its absolute path: systemd does not see the PATH that nvm, fnm or volta set up. Install again after',
          '# switching node versions.',
        ]),
    `ExecStart=${exec}`,
    ...(spec.path === undefined
      ? []
      : [
          '# node\'s folder first: children started as `node`, `npx` or `npm` then find this node too (systemd\'s PATH',
          '# does not hold it).',
          `Environment=${environmentWord(`PATH=${spec.path}`)}`,
        ]),
    '# SIGHUP re-reads the manifest and applies the difference; servers whose spec did not change keep their pid.',
    'ExecReload=/bin/kill -HUP $MAINPID',
    'Restart=on-failure',
    'RestartSec=2s',
    '',
    '# Stopping: SIGTERM to the gateway only (mixed). It stops accepting, lets requests in flight finish for up to',
    '# listen.shutdownGrace, then stops its children itself: stdin closed, 1 s later SIGTERM to each child\'s',
    '# process group, stopTimeout later SIGKILL, then the same for grandchildren left in the group. The default',
    '# (control-group) would SIGTERM every child at the same moment as the gateway: requests in flight would die',
    '# with them. After TimeoutStopSec systemd SIGKILLs whatever is left in the cgroup. Worst case (children stop',
    '# in parallel): shutdownGrace + 1 s + 2 × the largest stopTimeout; 21 s with the defaults (10 s, 5 s).',
    spec.origin === 'template'
      ? '# Raise TimeoutStopSec when the manifest raises those.'
      : '# TimeoutStopSec is 1.5 × that for the manifest as installed (at least 45 s): install again after raising them.',
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${spec.timeoutStopSec}s`,
    '',
    ...(user ? userService() : systemService()),
    '',
    '[Install]',
    `WantedBy=${user ? 'default.target' : 'multi-user.target'}`,
    '',
  ].join('\n');
}

function header(spec: UnitSpec): string[] {
  if (spec.origin === 'installed') {
    const check = spec.scope === 'user' ? 'systemd-analyze verify --user mcp-gateway.service' : `systemd-analyze verify /etc/systemd/system/${UNIT_NAME}`;
    const ctl = spec.scope === 'user' ? 'systemctl --user' : 'systemctl';
    return [
      INSTALLED_MARKER,
      `# mcp-gateway as a ${spec.scope === 'user' ? 'user' : 'system'} service, with this machine's paths. To change them, run the install again.`,
      `# Reload the manifest: \`${ctl} reload mcp-gateway\` (or just edit the file: the gateway watches it).`,
      `# Check it: ${check}`,
    ];
  }
  if (spec.scope === 'user') {
    return [
      '# mcp-gateway as a user service: runs as you, from your checkout, without root. `mcp-gateway service install',
      '# --user` writes it with this machine\'s paths. By hand: put the checkout in ~/mcp-gateway (or fix the paths',
      '# in ExecStart), set node\'s absolute path (`command -v node`: systemd does not see the PATH that nvm, fnm',
      '# or volta set up), then:',
      '#   cp systemd/mcp-gateway.user.service ~/.config/systemd/user/mcp-gateway.service',
      '#   systemctl --user daemon-reload && systemctl --user enable --now mcp-gateway',
      '#   loginctl enable-linger $USER     # start at boot, without a login',
      '# Reload the manifest: `systemctl --user reload mcp-gateway` (or just edit the file: the gateway watches it).',
      '# Logs: journalctl --user -u mcp-gateway. Check it: systemd-analyze verify --user mcp-gateway.service',
    ];
  }
  return [
    '# mcp-gateway as a system service. Assumes the code in /opt/mcp-gateway (a checkout with `npm ci` run, so',
    '# dist/ is built) and the manifest in /etc/mcp-gateway/mcp-gateway.yaml (which may be a git checkout, see',
    '# mcp-gateway-gitops.timer). Install:',
    '#   cp systemd/mcp-gateway.service /etc/systemd/system/ && systemctl daemon-reload',
    '#   systemctl enable --now mcp-gateway',
    '# or, as root, `mcp-gateway service install --config FILE` writes it with this machine\'s paths.',
    '# Reload the manifest: `systemctl reload mcp-gateway` (or just edit the file: the gateway watches it).',
    '# Check it: systemd-analyze verify /etc/systemd/system/mcp-gateway.service',
  ];
}

/** Secrets, user, directories, limits and hardening of a system unit. */
function systemService(): string[] {
  return [
    '# Secrets (tokens the manifest uses as ${VAR}, keys given as key: ${VAR}): KEY=value lines, root-only',
    '# (chmod 600). systemd reads the file as root, before dropping to the service user. "-": optional.',
    'EnvironmentFile=-/etc/mcp-gateway/env',
    '',
    '# A user made up at start (no account to manage, nothing it owns outside the directories below). It reads',
    '# the manifest, so keep /etc/mcp-gateway world-readable (it holds key hashes, not keys: secrets go in env).',
    'DynamicUser=yes',
    '# npx and uvx need a writable HOME and cache: npm caches in $HOME/.npm, uv in $XDG_CACHE_HOME/uv and installs',
    '# tools under $HOME/.local. Both survive restarts (so packages are not downloaded again), and both are in the',
    '# gateway\'s safe child environment (children get HOME and XDG_* even without inheritEnv).',
    'StateDirectory=mcp-gateway',
    'CacheDirectory=mcp-gateway',
    'Environment=HOME=%S/mcp-gateway XDG_CACHE_HOME=%C/mcp-gateway',
    'WorkingDirectory=%S/mcp-gateway',
    'UMask=0077',
    '# More open files than the default soft limit of 1024: every client connection and every child\'s pipes',
    '# hold some.',
    'LimitNOFILE=65536',
    '',
    '# Hardening that leaves node, npx, uvx and their children working. DynamicUser= already implies',
    '# ProtectSystem=strict, ProtectHome=read-only, PrivateTmp=yes, NoNewPrivileges=yes, RemoveIPC=yes; they are',
    '# written out so that switching to a fixed User= keeps them.',
    'ProtectSystem=strict',
    'ProtectHome=read-only',
    'PrivateTmp=yes',
    'NoNewPrivileges=yes',
    '# A server that writes elsewhere (a workspace, a sqlite file) needs that path here, e.g.:',
    '#ReadWritePaths=/srv/mcp-data',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectProc=invisible',
    ...seccompHardening(),
    '# No capabilities at all. To listen on a port below 1024, add:',
    '#AmbientCapabilities=CAP_NET_BIND_SERVICE',
    'CapabilityBoundingSet=',
    '# Not set, on purpose: MemoryDenyWriteExecute=yes (V8\'s JIT writes machine code at run time: node would crash),',
    '# ProcSubset=pid (hides /proc/stat and /proc/cpuinfo, which node\'s os.cpus() and many tools read).',
    '',
    '# listen.tls with a private key only root may read: systemd copies it for the service at start, and the',
    '# manifest names it as tls: { cert: "${CREDENTIALS_DIRECTORY}/tls.crt", key: "${CREDENTIALS_DIRECTORY}/tls.key" }.',
    '# The copies are made at start only: a renewed certificate then needs a restart, not a reload. (Or keep the',
    '# key readable by a group, e.g. Debian\'s ssl-cert, and add SupplementaryGroups=ssl-cert: reloads see renewals.)',
    '#LoadCredential=tls.crt:/etc/mcp-gateway/tls/tls.crt',
    '#LoadCredential=tls.key:/etc/mcp-gateway/tls/tls.key',
    '# Children that talk to Docker need the socket\'s group:',
    '#SupplementaryGroups=docker',
    ...CGROUP_DELEGATION,
    '# and, since ProtectControlGroups=yes above makes /sys/fs/cgroup read-only for the service:',
    '#ProtectControlGroups=no',
  ];
}

/**
 * A user manager runs the service as its user, in that user's HOME, and holds no privileges: settings that
 * need a mount namespace or capabilities (ProtectSystem=, PrivateTmp=, CapabilityBoundingSet=, User=, raising
 * LimitNOFILE's hard limit) would fail the start or depend on unprivileged user namespaces. What is left
 * works through seccomp and no_new_privs, which any process may set on itself.
 */
function userService(): string[] {
  return [
    '# Secrets (tokens the manifest uses as ${VAR}, keys given as key: ${VAR}): KEY=value lines in',
    '# ~/.config/mcp-gateway/env (chmod 600). "-": optional.',
    'EnvironmentFile=-%E/mcp-gateway/env',
    '# Runs as you, in your HOME (where npx and uvx keep their caches). Node raises its open-files limit to the',
    '# hard limit by itself; a user manager cannot raise that, so LimitNOFILE= is not set.',
    'UMask=0077',
    '',
    '# Hardening a user manager applies without privileges (seccomp, no_new_privs). Not here: ProtectSystem=,',
    '# ProtectHome=, PrivateTmp=, PrivateDevices=, Protect{Kernel*,ControlGroups,Clock,Hostname}=,',
    '# CapabilityBoundingSet=: they need a mount namespace or capabilities, which a user manager has only where',
    '# unprivileged user namespaces are allowed. The system unit (systemd/mcp-gateway.service) has them.',
    'NoNewPrivileges=yes',
    ...seccompHardening(),
    '# Not set, on purpose: MemoryDenyWriteExecute=yes (V8\'s JIT writes machine code at run time: node would crash).',
    ...CGROUP_DELEGATION,
  ];
}

/**
 * The memory and cpu limits of servers (`limits:` in the manifest) need a cgroup the gateway may write: systemd
 * delegates the unit's own to it. Opt-in, as the README says: a delegated cgroup is the gateway's to manage.
 */
const CGROUP_DELEGATION = [
  '# Servers\' memory and cpu limits (limits: in the manifest) need a cgroup of the gateway\'s own: uncomment',
  '#Delegate=memory cpu',
];

function seccompHardening(): string[] {
  return [
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    '# AF_NETLINK: getifaddrs() (node\'s os.networkInterfaces(), some HTTP clients) asks the kernel through it.',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    'SystemCallArchitectures=native',
    'SystemCallFilter=@system-service',
    'SystemCallErrorNumber=EPERM',
  ];
}
