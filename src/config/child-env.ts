// The environment a child starts with. By default only a safe base of the gateway's own (what programs
// need to run, find things and reach the network) plus the variables of the server's `envFile`, then its
// `env` (which wins); `inheritEnv: true` passes the rest too. The gateway's keys never reach a child either
// way (unless the server's own envFile or env gives one on purpose).
import type { ServerSpec } from './types.ts';

const SAFE = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TERM', 'TMPDIR', 'TEMP', 'TMP',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS', 'XDG_CACHE_HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME',
]);

export function childEnvironment(
  spec: Pick<ServerSpec, 'env' | 'envFromFile' | 'inheritEnv'>,
  gatewayEnv: Readonly<Record<string, string | undefined>>,
  secretEnvNames: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  const secrets = new Set(secretEnvNames);
  for (const [name, value] of Object.entries(gatewayEnv)) {
    if (value === undefined || secrets.has(name) || name.startsWith('MCP_GATEWAY_')) continue;
    if (spec.inheritEnv || SAFE.has(name) || name.startsWith('LC_')) out[name] = value;
  }
  return Object.assign(out, spec.envFromFile, spec.env);
}
