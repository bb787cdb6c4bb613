// A gateway that trusts a real authorization server: the gateway first (the provider must know its URL to
// accept it as a resource), then the provider, then the manifest that trusts it (a live edit).
import { demoServer, manifest, startHarness, waitFor, type Harness } from '../helpers/gateway.ts';
import { startAuthServer, type AuthServer } from '../helpers/oidc.ts';

export const KEY = 'ops-key-0123456789abcdef';
export const KEYS_YAML = `auth:\n  keys:\n    - { name: ops, key: ${KEY}, servers: "*", admin: true }\n`;
export const SERVERS_AB = demoServer('a') + demoServer('b');

/** The auth section with the ops key and auth.oauth trusting `issuer`; `grants` are YAML flow maps. */
export function oauthYaml(issuer: string, grants: readonly string[], skew?: string): string {
  const clock = skew === undefined ? '' : `, clockSkew: ${skew}`;
  return `${KEYS_YAML}  oauth:\n    issuers:\n      - { issuer: "${issuer}"${clock} }\n    grants:\n${grants.map((g) => `      - ${g}\n`).join('')}`;
}

export async function gatewayTrusting(options: { grants: readonly string[]; scopes: readonly string[]; skew?: string; servers?: string }): Promise<{ h: Harness; as: AuthServer }> {
  const servers = options.servers ?? SERVERS_AB;
  const h = await startHarness(manifest(servers, KEYS_YAML));
  const as = await startAuthServer({ gatewayBase: h.url, scopes: options.scopes });
  h.write(manifest(servers, oauthYaml(as.issuer, options.grants, options.skew)));
  await waitFor(async () => (await fetch(`${h.url}/.well-known/oauth-protected-resource`)).status === 200, 'auth.oauth applied', 10_000);
  return { h, as };
}
