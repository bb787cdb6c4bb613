// The unit text `service install` writes and systemd/ ships: pure, no files. systemd-analyze checks the
// real files in test/systemd/units.test.ts and test/cli/service.test.ts.
import { describe, expect, it } from 'vitest';
import { HEAP_FLAGS } from '../../bin/heap-flags.js';
import {
  INSTALLED_MARKER,
  MIN_TIMEOUT_STOP_SEC,
  SYSTEMD_PATH,
  environmentWord,
  execLine,
  serviceUnit,
  servicePath,
  stopTimeoutSec,
  type UnitSpec,
} from '../../src/cli/service-unit.ts';

const spec = (over: Partial<UnitSpec> = {}): UnitSpec => ({
  scope: 'system',
  origin: 'installed',
  node: '/home/ann/.nvm/versions/node/v20.11.0/bin/node',
  bin: '/srv/mcp-gateway/bin/mcp-gateway.js',
  manifest: '/srv/config/mcp-gateway.yaml',
  root: '/srv/mcp-gateway',
  timeoutStopSec: 45,
  ...over,
});

/** `[Service]` settings as key → values (a key may repeat). */
function serviceSettings(unit: string): Map<string, string[]> {
  const body = unit.split('[Service]')[1]!.split('[Install]')[0]!;
  const settings = new Map<string, string[]>();
  for (const line of body.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m !== null) settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!]);
  }
  return settings;
}

const setting = (unit: string, key: string): string | undefined => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1];

describe('stopTimeoutSec', () => {
  it('is 1.5 × shutdownGrace + 1 s + 2 × the largest stopTimeout, never under 45 s', () => {
    expect(stopTimeoutSec(10_000, [5_000, 2_000])).toBe(MIN_TIMEOUT_STOP_SEC); // 21 s × 1.5 < 45
    expect(stopTimeoutSec(10_000, [])).toBe(MIN_TIMEOUT_STOP_SEC);
    expect(stopTimeoutSec(60_000, [20_000, 5_000])).toBe(152); // 101 s × 1.5 = 151.5
    expect(stopTimeoutSec(0, [30_000])).toBe(92); // 61 s × 1.5 = 91.5
  });
});

describe('execLine', () => {
  it('quotes words with spaces, escapes % everywhere and $ in the arguments only', () => {
    expect(execLine(['/usr/bin/node', '--flag', '/a/b.js'])).toBe('/usr/bin/node --flag /a/b.js');
    expect(execLine(['/My Apps/node', '/x y/m.yaml'])).toBe('"/My Apps/node" "/x y/m.yaml"');
    expect(execLine(['/n%d/node', '/50%/$HOME/m.yaml'])).toBe('/n%%d/node /50%%/$$HOME/m.yaml');
    // systemd does not expand variables in the program's path: a $ there stays as written.
    expect(execLine(['/opt/$x/node'])).toBe('/opt/$x/node');
    expect(execLine(['/a/"q"\\b'])).toBe('"/a/\\"q\\"\\\\b"');
  });

  it('environmentWord escapes % and quotes, and leaves $ alone (Environment= expands no variables)', () => {
    expect(environmentWord('PATH=/a/bin:/usr/bin')).toBe('PATH=/a/bin:/usr/bin');
    expect(environmentWord('PATH=/a b/$x%:/usr/bin')).toBe('"PATH=/a b/$x%%:/usr/bin"');
  });
});

describe('servicePath', () => {
  it("puts node's folder before systemd's PATH, unless systemd's PATH holds it", () => {
    expect(servicePath('/usr/bin/node')).toBeUndefined();
    expect(servicePath('/usr/local/bin/node')).toBeUndefined();
    expect(servicePath('/home/ann/.nvm/versions/node/v20.11.0/bin/node')).toBe(`/home/ann/.nvm/versions/node/v20.11.0/bin:${SYSTEMD_PATH}`);
  });
});

describe('serviceUnit', () => {
  it('runs node by its absolute path with the heap flags, the bin and the manifest, and reloads on SIGHUP', () => {
    for (const scope of ['system', 'user'] as const) {
      const unit = serviceUnit(spec({ scope, path: servicePath(spec().node) }));
      expect(setting(unit, 'ExecStart')).toBe(
        `/home/ann/.nvm/versions/node/v20.11.0/bin/node ${HEAP_FLAGS.join(' ')} /srv/mcp-gateway/bin/mcp-gateway.js run --config /srv/config/mcp-gateway.yaml`,
      );
      expect(setting(unit, 'ExecReload')).toBe('/bin/kill -HUP $MAINPID');
      expect(setting(unit, 'KillMode')).toBe('mixed');
      expect(setting(unit, 'Type')).toBe('exec');
      expect(serviceSettings(unit).get('Environment')).toContain(`PATH=/home/ann/.nvm/versions/node/v20.11.0/bin:${SYSTEMD_PATH}`);
    }
  });

  it('writes the TimeoutStopSec it is given', () => {
    expect(setting(serviceUnit(spec({ timeoutStopSec: 152 })), 'TimeoutStopSec')).toBe('152s');
  });

  it('an installed unit starts with the marker line; a template carries none', () => {
    expect(serviceUnit(spec()).split('\n')[0]).toBe(INSTALLED_MARKER);
    expect(serviceUnit(spec({ scope: 'user' })).split('\n')[0]).toBe(INSTALLED_MARKER);
    expect(serviceUnit(spec({ origin: 'template' })).split('\n')).not.toContain(INSTALLED_MARKER);
    expect(serviceUnit(spec({ origin: 'template', scope: 'user' })).split('\n')).not.toContain(INSTALLED_MARKER);
  });

  it('a system unit runs as a dynamic user at multi-user.target; a user unit has no user, no namespaces, no capabilities', () => {
    const system = serviceUnit(spec());
    expect(setting(system, 'DynamicUser')).toBe('yes');
    expect(setting(system, 'WantedBy')).toBe('multi-user.target');
    const user = serviceUnit(spec({ scope: 'user' }));
    expect(setting(user, 'WantedBy')).toBe('default.target');
    const keys = [...serviceSettings(user).keys()];
    for (const needsPrivilege of ['DynamicUser', 'User', 'Group', 'StateDirectory', 'CacheDirectory', 'LimitNOFILE', 'CapabilityBoundingSet', 'AmbientCapabilities']) {
      expect(keys).not.toContain(needsPrivilege);
    }
    expect(keys.filter((k) => /^(Protect|Private)/.test(k))).toEqual([]);
    expect(user).not.toMatch(/^(After|Wants)=network-online\.target$/m);
  });

  it("a user unit's settings are the system unit's, but for what a user manager cannot do and where secrets live", () => {
    const system = serviceSettings(serviceUnit(spec()));
    const user = serviceSettings(serviceUnit(spec({ scope: 'user' })));
    expect(user.get('EnvironmentFile')).toEqual(['-%E/mcp-gateway/env']);
    for (const [key, values] of user) if (key !== 'EnvironmentFile') expect(system.get(key), key).toEqual(values);
  });

  it('is the same bytes for the same spec', () => {
    expect(serviceUnit(spec({ scope: 'user' }))).toBe(serviceUnit(spec({ scope: 'user' })));
  });
});
