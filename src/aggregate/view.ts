// Which servers an aggregate caller sees, and how (pure): the servers its key may use, narrowed to a
// bundle's list for /mcp/@<bundle>, in name order, each with its exposure; the separator; the bundle's
// and the key's tool globs.
import { mayUse } from '../auth/keys.ts';
import type { Desired, EndpointSpec, Exposure, KeySpec } from '../config/types.ts';
import type { AggregateView } from './aggregate-binding.ts';

export function aggregateView(
  servers: Iterable<{ readonly name: string; readonly spec: { readonly exposure: Exposure } }>,
  separator: string,
  key: KeySpec | undefined,
  bundle: EndpointSpec | undefined,
): AggregateView {
  const inBundle = (name: string): boolean => bundle === undefined || bundle.servers === '*' || bundle.servers.includes(name);
  const members = [...servers]
    .filter((s) => mayUse(key, s.name) && inBundle(s.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((s) => ({ server: s.name, exposure: s.spec.exposure }));
  const tools = [...(bundle === undefined ? [] : [bundle.tools]), ...(key?.tools === undefined ? [] : [key.tools])];
  return { members, separator, tools, ...(bundle?.discovery === true ? { discovery: true } : {}) };
}

/** The session-target name of an aggregate: `@` for /mcp, `@<bundle>` for a bundle. */
export function aggregateName(bundle: string | undefined): string {
  return bundle === undefined ? '@' : `@${bundle}`;
}

/**
 * The view of `/mcp` (no bundle) or of a bundle, from the manifest now; a bundle a reload removed shows
 * nothing (its sessions end at their next request's 404).
 */
export function currentView(
  desired: Desired | undefined,
  servers: Iterable<{ readonly name: string; readonly spec: { readonly exposure: Exposure } }>,
  key: KeySpec | undefined,
  bundle: string | undefined,
): AggregateView {
  const spec = bundle === undefined ? undefined : desired?.endpoints.get(bundle);
  if (bundle !== undefined && spec === undefined) return { members: [], separator: desired?.separator ?? '__', tools: [] };
  return aggregateView(servers, desired?.separator ?? '__', key, spec);
}
