// MCP 2026-07-28 multi round-trip requests (MRTR) through the gateway, in plain HTTP: a 2025 child (the
// conformance fixture) asks its client things mid-call (elicitation/create, sampling/createMessage,
// roots/list); a 2026 client gets each ask as an input_required round and completes the call by retrying
// with inputResponses and the round's requestState. Shared children (the gateway declares every client
// capability to them) and a per-session server (a child per 2026 principal). The requestState is attacked
// the ways the spec names (MRTR, "Server Requirements": integrity, principal, expiry, originating request)
// and each attack must give a JSON-RPC error, never a result and never a new round. A round nobody retries
// must cancel the child's call (the stdin tap shows what the child heard).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness, type Json } from '../helpers/gateway.ts';
import { KEY_A, KEY_B, allRunning, callParams, conformanceServer, heard, keyedManifest, modern, textOf, type Answer } from './helpers.ts';

const ALL = ['sampling', 'elicitation', 'roots'];
const ELICIT = { elicitation: {} };
const SAMPLE = { sampling: {} };
const ROOTS = { roots: {} };

const NAME_ANSWER = { action: 'accept', content: { name: 'Ada' } };
const SAMPLING_ANSWER = (text: string) => ({ role: 'assistant', content: { type: 'text', text }, model: 'test-model', stopReason: 'endTurn' });
const ROOTS_ANSWER = { roots: [{ uri: 'file:///work/project', name: 'project' }] };

let h: Harness;
let dir: string;
let shortTap: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mcp-gw-mrtr-'));
  shortTap = path.join(dir, 'short.stdin.jsonl');
  h = await startHarness(
    keyedManifest(
      conformanceServer('a', { clientCapabilities: ALL }) +
        conformanceServer('b', { clientCapabilities: ALL }) +
        conformanceServer('p', { sharing: 'per-session' }) +
        // The round timeout is the server's requestTimeout: short, so that expiry can be waited for.
        conformanceServer('short', { clientCapabilities: ALL, requestTimeout: '1500ms', tapLog: shortTap }),
    ),
  );
  await allRunning(h, ['a', 'b', 'short']);
}, 30_000);

afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A tools/call of `tool` (no arguments) with these capabilities; more params (inputResponses, requestState) merged in. */
function call(server: string, tool: string, capabilities: Record<string, unknown>, more: Record<string, unknown> = {}, key = KEY_B, args: Record<string, unknown> = {}): Promise<Answer> {
  return modern(h, server, 'tools/call', callParams(tool, args, more), { key, capabilities });
}

/** The answer is an input_required round: its inputRequests and requestState. */
function round(a: Answer): { inputRequests: Record<string, Json>; requestState: string } {
  expect(a.status, a.text).toBe(200);
  expect(a.response?.result?.resultType, a.text).toBe('input_required');
  const { inputRequests, requestState } = a.response.result;
  expect(typeof requestState).toBe('string');
  return { inputRequests, requestState };
}

/** The answer is a complete result: its text. */
function complete(a: Answer): string {
  expect(a.status, a.text).toBe(200);
  expect(a.response?.error, a.text).toBeUndefined();
  expect(a.response.result.resultType, a.text).toBe('complete');
  return textOf(a.response.result);
}

/** The answer is a JSON-RPC error with `code` for request `id` (HTTP 400): no result, no new round. */
function refused(a: Answer, code: number): Json {
  expect(a.status, a.text).toBe(400);
  expect(a.response?.result, a.text).toBeUndefined();
  expect(a.response?.error?.code, a.text).toBe(code);
  return a.response.error;
}

/** The decoded payload of a requestState (the test may look inside; a client must not). */
function payloadOf(state: string): Json {
  return JSON.parse(Buffer.from(state.split('.')[1]!, 'base64url').toString('utf8'));
}

describe.each([
  ['a', 'shared'],
  ['p', 'per-session'],
])('MRTR rounds on %s (%s)', (server) => {
  it('turns elicitation/create into an input_required round and completes on retry', async () => {
    const first = await call(server, 'test_input_required_result_elicitation', ELICIT);
    const { inputRequests, requestState } = round(first);
    expect(Object.keys(inputRequests)).toEqual(['user_name']);
    expect(inputRequests.user_name.method).toBe('elicitation/create');
    expect(inputRequests.user_name.params.requestedSchema.properties.name.type).toBe('string');
    // The gateway's own _meta key (which names the input) is taken off before the client sees the request.
    expect(inputRequests.user_name.params._meta?.['mcp-gateway/inputKey']).toBeUndefined();
    expect(first.response.result.ttlMs).toBeUndefined(); // interim results carry no caching hints
    const second = await call(server, 'test_input_required_result_elicitation', ELICIT, { inputResponses: { user_name: NAME_ANSWER }, requestState });
    expect(complete(second)).toBe('Hello, Ada!');
    expect(second.response.result._meta['io.modelcontextprotocol/serverInfo'].name).toBe('mcp-gateway-conformance-server');
  });

  it('turns sampling/createMessage into a round and completes on retry', async () => {
    const { inputRequests, requestState } = round(await call(server, 'test_input_required_result_sampling', SAMPLE));
    expect(Object.keys(inputRequests)).toEqual(['capital_question']);
    expect(inputRequests.capital_question.method).toBe('sampling/createMessage');
    expect(inputRequests.capital_question.params.messages[0].content.text).toBe('What is the capital of France?');
    const done = await call(server, 'test_input_required_result_sampling', SAMPLE, { inputResponses: { capital_question: SAMPLING_ANSWER('Paris') }, requestState });
    expect(complete(done)).toBe('Sampling result: Paris');
  });

  it('turns roots/list into a round and completes on retry', async () => {
    const { inputRequests, requestState } = round(await call(server, 'test_input_required_result_list_roots', ROOTS));
    expect(Object.keys(inputRequests)).toEqual(['client_roots']);
    expect(inputRequests.client_roots.method).toBe('roots/list');
    const done = await call(server, 'test_input_required_result_list_roots', ROOTS, { inputResponses: { client_roots: ROOTS_ANSWER }, requestState });
    expect(complete(done)).toBe('Found 1 root(s): file:///work/project');
  });

  it('asks three inputs of three kinds in one round', async () => {
    const caps = { ...ELICIT, ...SAMPLE, ...ROOTS };
    const { inputRequests, requestState } = round(await call(server, 'test_input_required_result_multiple_inputs', caps));
    expect(Object.fromEntries(Object.entries(inputRequests).map(([k, v]) => [k, v.method]))).toEqual({
      user_name: 'elicitation/create',
      greeting: 'sampling/createMessage',
      client_roots: 'roots/list',
    });
    const inputResponses = { user_name: NAME_ANSWER, greeting: SAMPLING_ANSWER('Hi there'), client_roots: ROOTS_ANSWER };
    const done = await call(server, 'test_input_required_result_multiple_inputs', caps, { inputResponses, requestState });
    expect(complete(done)).toBe('Name: Ada; Greeting: Hi there; Roots: 1');
  });

  it('runs a second round with a new state, then completes', async () => {
    const tool = 'test_input_required_result_multi_round';
    const r1 = round(await call(server, tool, ELICIT));
    expect(Object.keys(r1.inputRequests)).toEqual(['step1']);
    const r2 = round(await call(server, tool, ELICIT, { inputResponses: { step1: NAME_ANSWER }, requestState: r1.requestState }));
    expect(Object.keys(r2.inputRequests)).toEqual(['step2']);
    expect(r2.inputRequests.step2.params.message).toMatch(/colou?r/i);
    expect(r2.requestState).not.toBe(r1.requestState);
    // The first round's state is spent once the second round is out.
    refused(await call(server, tool, ELICIT, { inputResponses: { step1: NAME_ANSWER }, requestState: r1.requestState }), -32602);
    const done = await call(server, tool, ELICIT, { inputResponses: { step2: { action: 'accept', content: { color: 'blue' } } }, requestState: r2.requestState });
    expect(complete(done)).toBe('Multi-round complete for Ada who likes blue');
  });

  it('asks again for an input the retry left out, and ignores inputs it did not ask for', async () => {
    const tool = 'test_input_required_result_elicitation';
    const r1 = round(await call(server, tool, ELICIT));
    const r2 = round(await call(server, tool, ELICIT, { inputResponses: { unrelated: { action: 'accept', content: {} } }, requestState: r1.requestState }));
    expect(Object.keys(r2.inputRequests)).toEqual(['user_name']);
    expect(r2.requestState).not.toBe(r1.requestState);
    const done = await call(server, tool, ELICIT, { inputResponses: { user_name: NAME_ANSWER, extra: { anything: 1 } }, requestState: r2.requestState });
    expect(complete(done)).toBe('Hello, Ada!');
  });

  it('runs rounds for prompts/get too', async () => {
    const first = await modern(h, server, 'prompts/get', { name: 'test_input_required_result_prompt', arguments: {} }, { capabilities: ELICIT });
    const { inputRequests, requestState } = round(first);
    expect(Object.keys(inputRequests)).toEqual(['user_context']);
    const done = await modern(h, server, 'prompts/get', { name: 'test_input_required_result_prompt', arguments: {}, inputResponses: { user_context: { action: 'accept', content: { context: 'tests' } } }, requestState }, { capabilities: ELICIT });
    expect(done.status, done.text).toBe(200);
    expect(done.response.result.resultType).toBe('complete');
    expect(done.response.result.messages[0].content.text).toBe('Use this context: tests');
  });

  it('answers a missing capability with HTTP 400 -32021 naming it', async () => {
    const a = await modern(h, server, 'tools/call', callParams('test_missing_capability'), { id: 'no-caps', capabilities: {} });
    const error = refused(a, -32021);
    expect(a.response.id).toBe('no-caps');
    expect(error.data.requiredCapabilities).toEqual({ sampling: {} });
  });

  it('never asks a retry for input of a kind the retry itself did not declare', async () => {
    // Capabilities are per request: the first call declared elicitation, its retry declares nothing and
    // leaves the answer out. The pending elicitation may not be asked of this request again.
    const tool = 'test_input_required_result_elicitation';
    const r1 = round(await call(server, tool, ELICIT));
    const retry = await call(server, tool, {}, { inputResponses: {}, requestState: r1.requestState });
    try {
      const asked = Object.values((retry.response?.result?.inputRequests ?? {}) as Record<string, Json>).map((r) => r.method);
      expect(asked, retry.text).not.toContain('elicitation/create');
    } finally {
      // A call left parked would stand in the way of other keys' questions on the shared child: end it.
      const state = retry.response?.result?.requestState;
      if (typeof state === 'string') await call(server, tool, ELICIT, { inputResponses: { user_name: NAME_ANSWER }, requestState: state });
    }
  });

  it('never sends elicitation/create to a client that declared only sampling', async () => {
    // A tool that needs elicitation: the call fails with -32021, it is never a round with the request.
    const a = await call(server, 'test_input_required_result_elicitation', SAMPLE);
    expect(refused(a, -32021).data.requiredCapabilities).toEqual({ elicitation: {} });
    // A tool that asks for whatever it may: sampling in the first round, and never elicitation after it.
    const tool = 'test_input_required_result_capabilities';
    let answer = await call(server, tool, SAMPLE);
    const first = round(answer);
    expect(Object.values(first.inputRequests).map((r) => r.method)).toEqual(['sampling/createMessage']);
    let state = first.requestState;
    for (let i = 0; i < 4 && answer.response?.result?.resultType === 'input_required'; i++) {
      for (const r of Object.values(answer.response.result.inputRequests as Record<string, Json>)) expect(r.method).not.toBe('elicitation/create');
      const responses = Object.fromEntries(Object.keys(answer.response.result.inputRequests).map((k) => [k, SAMPLING_ANSWER('sampled')]));
      answer = await call(server, tool, SAMPLE, { inputResponses: responses, requestState: state });
      state = answer.response?.result?.requestState;
    }
    expect(answer.response?.result?.resultType ?? 'error', answer.text).not.toBe('input_required');
    if (answer.response?.error !== undefined) expect(answer.response.error.code).toBe(-32021);
    else expect(textOf(answer.response.result)).toContain('received sample_input');
  });
});

describe('requestState: integrity, binding to its call, expiry', () => {
  const TOOL = 'test_input_required_result_elicitation';
  const retryWith = (requestState: unknown, key = KEY_B, server = 'a', args: Record<string, unknown> = {}) =>
    call(server, TOOL, ELICIT, { inputResponses: { user_name: NAME_ANSWER }, requestState }, key, args);

  it('refuses a tampered, foreign, misplaced or altered state; the call stays parked for its own retry; a used state is spent', async () => {
    const { requestState } = round(await call('a', TOOL, ELICIT));
    const parked = h.gateway.stateless.parkedCalls;
    expect(parked).toBeGreaterThanOrEqual(1);
    const mid = Math.floor(requestState.length / 2);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const attempts: [string, () => Promise<Answer>][] = [
      ['one byte changed in the middle', () => retryWith(flip(requestState, mid))],
      ['one byte changed at the end', () => retryWith(flip(requestState, requestState.length - 1))],
      ['one byte changed at the start', () => retryWith(flip(requestState, 0))],
      ['text appended', () => retryWith(`${requestState}x`)],
      ['a segment appended', () => retryWith(`${requestState}.e30`)],
      ['truncated', () => retryWith(requestState.slice(0, -1))],
      ['not a string', () => retryWith({ state: requestState })],
      ['presented by another key', () => retryWith(requestState, KEY_A)],
      ['presented on another server', () => retryWith(requestState, KEY_B, 'b')],
      ['with other arguments', () => retryWith(requestState, KEY_B, 'a', { extra: 1 })],
      ['on another method', () => modern(h, 'a', 'prompts/get', { name: TOOL, inputResponses: { user_name: NAME_ANSWER }, requestState }, { capabilities: ELICIT })],
    ];
    for (const [what, attempt] of attempts) {
      const a = await attempt();
      expect(a.status, `${what}: ${a.text}`).toBe(400);
      expect(a.response?.error?.code, `${what}: ${a.text}`).toBe(-32602);
      expect(a.response?.result, what).toBeUndefined();
      expect(h.gateway.stateless.parkedCalls, `${what}: the parked call is untouched`).toBe(parked);
    }
    // The genuine retry still completes the call …
    expect(complete(await retryWith(requestState))).toBe('Hello, Ada!');
    // … and its state is spent: a replay is refused, not answered again nor asked again.
    refused(await retryWith(requestState), -32602);
  });

  it('takes a retry whose arguments are the same in another key order, and refuses requestState where no round can be', async () => {
    const args = { first: 1, second: { b: 2, a: 1 } };
    const { requestState } = round(await call('a', TOOL, ELICIT, {}, KEY_B, args));
    const reordered = { second: { a: 1, b: 2 }, first: 1 };
    expect(complete(await call('a', TOOL, ELICIT, { inputResponses: { user_name: NAME_ANSWER }, requestState }, KEY_B, reordered))).toBe('Hello, Ada!');
    const list = await modern(h, 'a', 'tools/list', { requestState }, { id: 'list-with-state' });
    expect(refused(list, -32602)).toBeDefined();
    expect(list.response.id).toBe('list-with-state');
  });

  it('never shows one principal the question of another principal’s parked call on a shared child', async () => {
    const parkedA = round(await call('a', TOOL, ELICIT, {}, KEY_A));
    const b = await call('a', 'test_input_required_result_sampling', SAMPLE, {}, KEY_B);
    const asked = Object.values((b.response?.result?.inputRequests ?? {}) as Record<string, Json>).map((r) => r.method);
    expect(asked, b.text).not.toContain('elicitation/create');
    if (b.response?.result?.resultType === 'input_required') expect(asked).toEqual(['sampling/createMessage']);
    // A's call is untouched by B's.
    expect(complete(await call('a', TOOL, ELICIT, { inputResponses: { user_name: NAME_ANSWER }, requestState: parkedA.requestState }, KEY_A))).toBe('Hello, Ada!');
  });

  it('lets exactly one of two simultaneous retries with one state continue the call', async () => {
    const { requestState } = round(await call('a', TOOL, ELICIT));
    const answers = await Promise.all([retryWith(requestState), retryWith(requestState)]);
    const ok = answers.filter((a) => a.response?.result !== undefined);
    expect(ok).toHaveLength(1);
    expect(complete(ok[0]!)).toBe('Hello, Ada!');
    refused(answers.find((a) => a !== ok[0])!, -32602);
  });

  it('refuses an expired state (the round timeout is the server requestTimeout)', async () => {
    const { requestState } = round(await call('short', TOOL, ELICIT));
    const { expires } = payloadOf(requestState);
    await waitFor(() => Date.now() > expires + 100, 'the state to expire', 10_000);
    const a = await call('short', TOOL, ELICIT, { inputResponses: { user_name: NAME_ANSWER }, requestState });
    expect(refused(a, -32602).message).toMatch(/expired/);
  });

  it('completes a multi-round call whose every round is answered within the round timeout', async () => {
    // Each round's requestState is good for requestTimeout (1500 ms) from its issue; each retry comes after
    // about two thirds of that. The whole call takes longer than one requestTimeout, no round does.
    const tool = 'test_input_required_result_multi_round';
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const r1 = round(await call('short', tool, ELICIT));
    await sleep(1000);
    const r2 = round(await call('short', tool, ELICIT, { inputResponses: { step1: NAME_ANSWER }, requestState: r1.requestState }));
    expect(payloadOf(r2.requestState).expires).toBeGreaterThan(Date.now() + 1000); // the new round has its own time
    await sleep(1000);
    const done = await call('short', tool, ELICIT, { inputResponses: { step2: { action: 'accept', content: { color: 'green' } } }, requestState: r2.requestState });
    expect(complete(done)).toBe('Multi-round complete for Ada who likes green');
  });

  it('cancels the child call when the retry never comes (the child hears notifications/cancelled)', async () => {
    const tool = 'test_input_required_result_request_state';
    const before = heard(shortTap).length;
    const { requestState } = round(await call('short', tool, ELICIT));
    const { handle } = payloadOf(requestState);
    const sent = heard(shortTap).slice(before).find((m) => m.method === 'tools/call' && m.params?.name === tool);
    expect(sent, 'the child got the call').toBeDefined();
    const cancelOf = () => heard(shortTap).find((m) => m.method === 'notifications/cancelled' && m.params?.requestId === sent.id);
    expect(cancelOf(), 'no cancel while the round is open').toBeUndefined();
    expect(h.gateway.stateless.call(handle)?.parked).toBe(true);
    const cancel = await waitFor(cancelOf, 'notifications/cancelled for the parked call', 10_000);
    expect(cancel.params.requestId).toBe(sent.id);
    await waitFor(() => h.gateway.stateless.call(handle) === undefined, 'the parked call gone');
  });
});
