// What a rollout (provision the new child, swap, drain the old) reports, and the pure pieces it decides
// with: which spec a child runs, and whether two children's lists differ.
import { createHmac, randomBytes } from 'node:crypto';
import type { ServerSpec } from '../config/types.ts';
import { PROCESS_FIELDS, stableJson } from '../plan/plan.ts';
import { LISTS, type JsonRpcResponse } from '../protocol/jsonrpc.ts';

/** The last rollout that did not complete: the old child kept serving. Cleared by the next success. */
export interface RolloutFailure {
  readonly reason: 'RolloutFailed';
  readonly at: string;
  /** Why the new child was not taken: exit, spawn error, or no answer to initialize in time. */
  readonly error: string;
  readonly exit: { readonly code: number | null; readonly signal: string | null } | null;
  /** The new child's last stderr lines (up to ROLLOUT_STDERR_LINES). */
  readonly stderr: readonly string[];
  /** specRevision of the spec the running child was started with, and of the one the manifest asks for. */
  readonly running: string;
  readonly wanted: string;
}

export const ROLLOUT_STDERR_LINES = 20;

/**
 * Keyed, so a revision says which spec runs without letting anyone test a guess at an env value against
 * it (a plain hash of a short secret is a dictionary away). Random per gateway process: revisions
 * compare within one run, which is what status needs.
 */
const REVISION_KEY = randomBytes(32);

/** A short name for the process fields of a spec (command, args, env, …): equal specs, equal revisions. */
export function specRevision(spec: ServerSpec): string {
  return createHmac('sha256', REVISION_KEY).update(processFieldsJson(spec)).digest('hex').slice(0, 12);
}

/** True when a child started from `a` is what `b` asks for: nothing that shapes the process differs. */
export function sameProcess(a: ServerSpec, b: ServerSpec): boolean {
  return processFieldsJson(a) === processFieldsJson(b);
}

function processFieldsJson(spec: ServerSpec): string {
  return stableJson(Object.fromEntries(PROCESS_FIELDS.map((f) => [f, spec[f]])));
}

/** One list of a child: its items, `undeclared` (no such capability), or `unreadable` (error, timeout). */
export type ListRead = readonly unknown[] | 'undeclared' | 'unreadable';

/**
 * Whether a list differs between the old child and the new one: the items (as JSON, key order aside),
 * or whether it is declared at all. An unreadable list counts as changed: telling clients to list again
 * costs one request; not telling them leaves a stale list.
 */
export function listDiffers(before: ListRead, after: ListRead): boolean {
  if (before === 'unreadable' || after === 'unreadable') return true;
  if (typeof before === 'string' || typeof after === 'string') return before !== after;
  return before.length !== after.length || stableJson(before) !== stableJson(after);
}

/** One child as a rollout compares it: a way to ask it, and what it answered to initialize. */
export interface ListSource {
  send(method: string, params: Record<string, unknown>): Promise<JsonRpcResponse>;
  readonly initializeResult: Record<string, unknown> | undefined;
}

/** Pages read of one list at most: past that, a difference is assumed rather than read. */
const MAX_PAGES = 10;

/** One list of a child, every page of it (`field` holds the items: `capability` but for templates). */
export async function readList(source: ListSource, method: string, capability: string, field = capability): Promise<ListRead> {
  const declared = (source.initializeResult?.capabilities as Record<string, unknown> | undefined)?.[capability];
  if (declared === undefined) return 'undeclared';
  const items: unknown[] = [];
  let cursor: unknown;
  for (let page = 0; page < MAX_PAGES; page++) {
    const response = await source.send(method, cursor === undefined ? {} : { cursor });
    // A result that is no object (`"result": null` passes checkMessage) is unreadable, not a TypeError.
    if ('error' in response || typeof response.result !== 'object' || response.result === null) return 'unreadable';
    const list = response.result[field];
    if (Array.isArray(list)) items.push(...(list as unknown[]));
    cursor = response.result.nextCursor;
    if (typeof cursor !== 'string') return items;
  }
  return 'unreadable';
}

/**
 * The list_changed notifications owed after a swap: one per list (tools, prompts, resources) that differs
 * between the two children. Every list is asked of both at once: the old child gets its questions before
 * its drain can stop it.
 */
export async function changedLists(before: ListSource, after: ListSource): Promise<string[]> {
  const reads = LISTS.map((l) => Promise.all([readList(before, l.method, l.capability), readList(after, l.method, l.capability)]));
  return (await Promise.all(reads)).flatMap(([a, b], i) => (listDiffers(a, b) ? [LISTS[i]!.changed] : []));
}
