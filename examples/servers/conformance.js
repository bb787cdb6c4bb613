#!/usr/bin/env node
// An MCP server on stdio, written with the official TypeScript SDK (McpServer + StdioServerTransport),
// offering everything the SERVER scenarios of the MCP conformance suite (@modelcontextprotocol/conformance)
// call: `npm run conformance` puts the gateway in front of it and runs the suite through the gateway.
//
// Tools: test_simple_text, test_image_content, test_audio_content, test_embedded_resource,
//   test_multiple_content_types, test_tool_with_logging, test_tool_with_progress, test_error_handling,
//   test_sampling, test_elicitation, test_elicitation_sep1034_defaults, test_elicitation_sep1330_enums,
//   test_reconnection, json_schema_2020_12_tool.
// Resources: test://static-text, test://static-binary, test://watched-resource (subscribable);
//   template test://template/{id}/data. Prompts: test_simple_prompt, test_prompt_with_arguments,
//   test_prompt_with_embedded_resource, test_prompt_with_image. Completions for prompt and template arguments.
// Logging: honours logging/setLevel. Server → client requests (sampling, elicitation) and notifications
// (log messages, progress) are sent as part of the tool call that caused them (related to its request id).
//
// For the 2026-07-28 scenarios (suite 0.2.x) this stays a 2025 server: it speaks initialize, keeps one
// session, and asks its client things in the middle of a call (elicitation/create, sampling/createMessage,
// roots/list) and waits for the answer. The gateway in front turns each such request into one round of a
// 2026 InputRequiredResult (inputRequests keyed by name, answered by the client's retry with inputResponses)
// and keeps the requestState itself. The key a 2026 client sees is named by the request:
// params._meta["mcp-gateway/inputKey"] (a string, which the gateway takes off before passing the request on).
// Tools and the prompt below, with the scenario that calls them and the keys they use:
//   test_input_required_result_elicitation     input-required-result-basic-elicitation, -result-type,
//       -missing-input-response, -ignore-extra-params, -validate-input. Asks a name (key user_name) until the
//       answer is a valid form answer, then "Hello, <name>!".
//   test_input_required_result_sampling        -basic-sampling. Asks an LLM (key capital_question).
//   test_input_required_result_list_roots      -basic-list-roots. Lists the client's roots (key client_roots).
//   test_input_required_result_request_state   -request-state. Asks for a confirmation (key confirm).
//   test_input_required_result_multiple_inputs -multiple-input-requests. Three requests at once, all in flight
//       before any is answered: user_name (elicitation), greeting (sampling), client_roots (roots/list).
//   test_input_required_result_multi_round     -multi-round. step1 (a name), answered, then step2 (a colour).
//   test_input_required_result_tampered_state  -tampered-state. Asks for a confirmation (key confirm); the
//       requestState and its integrity check are the gateway's.
//   test_input_required_result_capabilities    -capability-check. Asks, one after the other, for what the client
//       declared at initialize: sampling (key sample_input), then elicitation (key elicit_input). Behind the
//       gateway a 2026 client declares per request: one that declared only sampling gets the first round, and
//       at the second ask the gateway's -32021 (the scenario checks the first round only).
//   prompt test_input_required_result_prompt   -non-tool-request. prompts/get asks for a context (key user_context).
//   test_missing_capability                    server-stateless. Needs sampling (key sampling_probe): a refusal
//       is passed on as the call's JSON-RPC error (the gateway's -32021 with requiredCapabilities).
//   test_streaming_elicitation                 server-stateless. Asks a question mid-call (key stream_confirm):
//       the 2026 response stream must carry it as a result, never as a request.
//   test_logging_tool                          server-stateless. Logs while it runs and answers at once.
//   test_trigger_tool_change, test_trigger_prompt_change   server-stateless. Add or remove test_dynamic_tool /
//       test_dynamic_prompt (hidden at start), so that notifications/*/list_changed follow a real change.
// The caching scenario needs nothing here: ttlMs and cacheScope are not something a 2025 server can say.
//
// Diagnostics go to stderr (stdout is the protocol). Exits when stdin closes.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import {
  CallToolRequestSchema,
  McpError,
  ResultSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
// zod is the SDK's own (required) peer dependency: the SDK's tool and prompt schemas are zod schemas.
import { z } from 'zod';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

// A 1x1 red PNG and a WAV file with a single silent sample.
const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV_1_SAMPLE = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQIAAAAAAA==';
// Server → client requests wait this long for the client's answer (a person may be typing an elicitation).
const CLIENT_REQUEST_TIMEOUT_MS = 120_000;
const JSON_SCHEMA_2020_12 = 'https://json-schema.org/draft/2020-12/schema';
// The _meta key by which a request to the client names its input (the key of its InputRequiredResult entry).
const INPUT_KEY_META = 'mcp-gateway/inputKey';
// How often a tool asks again for an answer that is not valid before it gives up with -32602.
const MAX_ASKS = 3;
// MissingRequiredClientCapabilityError of the 2026-07-28 revision; a 2025 server may use it too (-32000 to
// -32099 are the server's own), and then a caller sees the same error whichever side found the gap.
const MISSING_CAPABILITY = -32021;

const log = (message) => process.stderr.write(`conformance-server: ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (value) => ({ type: 'text', text: value });

// One McpServer with everything registered; the stdio entry point below connects one to stdin/stdout.
// Exported so that the same server can be put behind another SDK transport (e.g. Streamable HTTP) to compare.
export function createConformanceServer() {
  const server = new McpServer(
    { name: 'mcp-gateway-conformance-server', version: '1.0.0' },
    {
      // No `tools` here: McpServer declares it ({ listChanged: true }) at the first registerTool, and installs
      // its tools/call handler then rather than now, after the wrapping below (see callErrors).
      capabilities: {
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
      instructions: 'Test server for the MCP conformance suite. Every tool, resource and prompt is a fixture.',
    },
  );
  const lowLevel = server.server;

  // McpServer turns every exception in a tool into a result with isError: true. The tools of the 2026
  // scenarios must instead fail the call itself, with a JSON-RPC error, when the client refuses what they ask
  // (its error passed on as it came, code and data: the gateway's -32021 must reach the caller as -32021) or
  // never gives a valid answer. Such a tool, wrapped in failingCall, records the error before throwing it, and
  // the tools/call handler that McpServer installs (at its first registerTool, below) throws it after all.
  const callErrors = new WeakMap(); // the call's `extra` → the McpError to answer it with
  const setRequestHandler = lowLevel.setRequestHandler.bind(lowLevel);
  let callToolWrapped = false;
  lowLevel.setRequestHandler = (schema, handler) => {
    if (schema !== CallToolRequestSchema) return setRequestHandler(schema, handler);
    callToolWrapped = true;
    return setRequestHandler(schema, async (request, extra) => {
      const result = await handler(request, extra);
      const error = callErrors.get(extra);
      if (error) throw error;
      return result;
    });
  };
  // Runs a tool's work; an McpError it throws (a refusal from the client, no valid answer, a missing
  // capability) becomes the call's JSON-RPC error. Anything else stays an isError result, as for other tools.
  const failingCall = (work) => async (args, extra) => {
    try {
      return await work(args, extra);
    } catch (error) {
      if (error instanceof McpError) callErrors.set(extra, error);
      throw error;
    }
  };

  // Log notifications that belong to a request: filtered by the level the client set with logging/setLevel
  // (the SDK keeps it per transport session; on stdio there is one), sent on the request's own stream.
  async function logFor(extra, level, data) {
    if (lowLevel.isMessageIgnored(level, extra.sessionId)) return;
    await extra.sendNotification({
      method: 'notifications/message',
      params: { level, logger: 'conformance-server', data },
    });
  }

  // Requests to the client made while handling a tool call: related to that call, so that a transport that
  // routes by request (the gateway, any Streamable HTTP server) delivers them to the client that made the call.
  function clientRequestOptions(extra) {
    return { relatedRequestId: extra.requestId, signal: extra.signal, timeout: CLIENT_REQUEST_TIMEOUT_MS };
  }

  function missingCapability(name) {
    return {
      isError: true,
      content: [text(`The client did not declare the ${name} capability in initialize, so this tool cannot ask it.`)],
    };
  }

  // Runs an elicitation/create for a tool and reports the answer as the tool's text result.
  async function elicit(extra, params, label) {
    if (!lowLevel.getClientCapabilities()?.elicitation) return missingCapability('elicitation');
    const result = await lowLevel.elicitInput({ mode: 'form', ...params }, clientRequestOptions(extra));
    return {
      content: [text(`${label}: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)],
    };
  }

  // ----- tools -----

  server.registerTool(
    'test_simple_text',
    { description: 'Returns one text content item.', inputSchema: {} },
    async () => ({ content: [text('This is a simple text response for testing.')] }),
  );

  server.registerTool(
    'test_image_content',
    { description: 'Returns one image content item (a 1x1 PNG).', inputSchema: {} },
    async () => ({ content: [{ type: 'image', data: PNG_1X1, mimeType: 'image/png' }] }),
  );

  server.registerTool(
    'test_audio_content',
    { description: 'Returns one audio content item (a tiny WAV file).', inputSchema: {} },
    async () => ({ content: [{ type: 'audio', data: WAV_1_SAMPLE, mimeType: 'audio/wav' }] }),
  );

  server.registerTool(
    'test_embedded_resource',
    { description: 'Returns one embedded text resource.', inputSchema: {} },
    async () => ({
      content: [
        {
          type: 'resource',
          resource: {
            uri: 'test://embedded-resource',
            mimeType: 'text/plain',
            text: 'This is an embedded resource content.',
          },
        },
      ],
    }),
  );

  server.registerTool(
    'test_multiple_content_types',
    { description: 'Returns text, image and embedded resource content together.', inputSchema: {} },
    async () => ({
      content: [
        text('Multiple content types test:'),
        { type: 'image', data: PNG_1X1, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
  );

  server.registerTool(
    'test_tool_with_logging',
    { description: 'Sends three info log messages, 50 ms apart, while it runs.', inputSchema: {} },
    async (_args, extra) => {
      await logFor(extra, 'info', 'Tool execution started');
      await sleep(50);
      await logFor(extra, 'info', 'Tool processing data');
      await sleep(50);
      await logFor(extra, 'info', 'Tool execution completed');
      return { content: [text('Tool with logging executed successfully')] };
    },
  );

  server.registerTool(
    'test_tool_with_progress',
    { description: 'Reports progress 0, 50 and 100 of 100, 50 ms apart, when given a progress token.', inputSchema: {} },
    async (_args, extra) => {
      const token = extra._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progress > 0) await sleep(50);
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress, total: 100, message: `${progress} of 100` },
          });
        }
      }
      return { content: [text(token === undefined ? 'Done (no progress token given)' : `Done (progress token ${token})`)] };
    },
  );

  server.registerTool(
    'test_error_handling',
    { description: 'Always fails: the result has isError: true.', inputSchema: {} },
    async () => {
      // The SDK turns an exception in a tool into a result with isError: true and the message as text.
      throw new Error('This tool intentionally returns an error for testing');
    },
  );

  server.registerTool(
    'test_sampling',
    {
      description: 'Asks the client to sample an LLM (sampling/createMessage) and returns the answer.',
      inputSchema: { prompt: z.string().describe('The prompt to send to the LLM') },
    },
    async ({ prompt }, extra) => {
      if (!lowLevel.getClientCapabilities()?.sampling) return missingCapability('sampling');
      const result = await lowLevel.createMessage(
        { messages: [{ role: 'user', content: text(prompt) }], maxTokens: 100 },
        clientRequestOptions(extra),
      );
      const answer = Array.isArray(result.content)
        ? result.content.map((c) => c.text ?? `[${c.type}]`).join('')
        : (result.content?.text ?? `[${result.content?.type}]`);
      return { content: [text(`LLM response: ${answer}`)] };
    },
  );

  server.registerTool(
    'test_elicitation',
    {
      description: 'Asks the user for a username and an email (elicitation/create) and returns the answer.',
      inputSchema: { message: z.string().describe('The message to show the user') },
    },
    async ({ message }, extra) =>
      elicit(
        extra,
        {
          message,
          requestedSchema: {
            type: 'object',
            properties: {
              username: { type: 'string', description: "User's response" },
              email: { type: 'string', description: "User's email address" },
            },
            required: ['username', 'email'],
          },
        },
        'User response',
      ),
  );

  server.registerTool(
    'test_elicitation_sep1034_defaults',
    { description: 'Elicitation whose fields of every primitive type have default values (SEP-1034).', inputSchema: {} },
    async (_args, extra) =>
      elicit(
        extra,
        {
          message: 'Please check these details; every field has a default.',
          requestedSchema: {
            type: 'object',
            properties: {
              name: { type: 'string', description: 'Name', default: 'John Doe' },
              age: { type: 'integer', description: 'Age', default: 30 },
              score: { type: 'number', description: 'Score', default: 95.5 },
              status: {
                type: 'string',
                description: 'Status',
                enum: ['active', 'inactive', 'pending'],
                default: 'active',
              },
              verified: { type: 'boolean', description: 'Verified', default: true },
            },
          },
        },
        'Elicitation completed',
      ),
  );

  server.registerTool(
    'test_elicitation_sep1330_enums',
    { description: 'Elicitation with each of the five enum schema forms (SEP-1330).', inputSchema: {} },
    async (_args, extra) =>
      elicit(
        extra,
        {
          message: 'Please pick some options.',
          requestedSchema: {
            type: 'object',
            properties: {
              untitledSingle: {
                type: 'string',
                description: 'Single choice, no titles',
                enum: ['option1', 'option2', 'option3'],
              },
              titledSingle: {
                type: 'string',
                description: 'Single choice with titles',
                oneOf: [
                  { const: 'value1', title: 'First Option' },
                  { const: 'value2', title: 'Second Option' },
                  { const: 'value3', title: 'Third Option' },
                ],
              },
              legacyEnum: {
                type: 'string',
                description: 'Single choice with titles, the deprecated way',
                enum: ['opt1', 'opt2', 'opt3'],
                enumNames: ['Option One', 'Option Two', 'Option Three'],
              },
              untitledMulti: {
                type: 'array',
                description: 'Several choices, no titles',
                items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
              },
              titledMulti: {
                type: 'array',
                description: 'Several choices with titles',
                items: {
                  anyOf: [
                    { const: 'value1', title: 'First Choice' },
                    { const: 'value2', title: 'Second Choice' },
                    { const: 'value3', title: 'Third Choice' },
                  ],
                },
              },
            },
          },
        },
        'Elicitation completed',
      ),
  );

  // The suite's server-sse-polling scenario (pending in 0.1.16, so not in the default run) calls this tool over
  // Streamable HTTP and expects the server to close the call's SSE stream before the result, then deliver the
  // result after the client reconnects with Last-Event-ID. Only the HTTP side can close a stream: behind the
  // SDK's HTTP transport (with an event store) the handler gets closeSSEStream; on stdio it does not, and the
  // tool only takes a moment so that an HTTP front end has a window in which to do it.
  server.registerTool(
    'test_reconnection',
    { description: 'Answers after 500 ms (for the SSE disconnect/resume test, SEP-1699).', inputSchema: {} },
    async (_args, extra) => {
      // Over Streamable HTTP with resumability the SDK offers closeSSEStream; on stdio it is absent.
      extra.closeSSEStream?.();
      await sleep(500);
      return { content: [text('Reconnection test completed successfully.')] };
    },
  );

  // SEP-1613: an input schema using JSON Schema 2020-12 ($schema, $defs, $ref, additionalProperties) must reach
  // the client unchanged. The SDK renders zod schemas to JSON Schema; the metadata below puts those keys in.
  const address = z.object({ street: z.string().optional(), city: z.string().optional() });
  server.registerTool(
    'json_schema_2020_12_tool',
    {
      description: 'Tool with JSON Schema 2020-12 features',
      inputSchema: z
        .object({
          name: z.string().optional(),
          address: address.optional().meta({ $ref: '#/$defs/address' }),
        })
        .strict()
        .meta({
          $schema: JSON_SCHEMA_2020_12,
          $defs: { address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
        }),
    },
    async (args) => ({ content: [text(`Received: ${JSON.stringify(args)}`)] }),
  );

  // ----- resources -----

  server.registerResource(
    'static-text',
    'test://static-text',
    { title: 'Static text', description: 'A text resource with fixed content.', mimeType: 'text/plain' },
    async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
    }),
  );

  server.registerResource(
    'static-binary',
    'test://static-binary',
    { title: 'Static binary', description: 'A binary resource (a 1x1 PNG).', mimeType: 'image/png' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: PNG_1X1 }] }),
  );

  server.registerResource(
    'watched-resource',
    'test://watched-resource',
    { title: 'Watched resource', description: 'A resource clients can subscribe to.', mimeType: 'text/plain' },
    async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Watched resource content' }],
    }),
  );

  server.registerResource(
    'template-data',
    new ResourceTemplate('test://template/{id}/data', {
      list: undefined,
      complete: { id: (value) => ['1', '2', '3', '123'].filter((id) => id.startsWith(value)) },
    }),
    { title: 'Data by id', description: 'JSON data for any id.', mimeType: 'application/json' },
    async (uri, { id }) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: 'application/json',
          text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
        },
      ],
    }),
  );

  // Subscriptions: the SDK's McpServer has no handlers for these; the capability (resources.subscribe) is
  // declared above. Nothing here changes on its own, so no notifications/resources/updated are sent; the
  // subscriptions are kept so that a subscription to an unknown resource can be refused.
  const knownResources = new Set(['test://static-text', 'test://static-binary', 'test://watched-resource']);
  const subscriptions = new Set();
  lowLevel.setRequestHandler(SubscribeRequestSchema, async (request) => {
    const { uri } = request.params;
    if (!knownResources.has(uri) && !/^test:\/\/template\/[^/]+\/data$/.test(uri)) {
      throw new McpError(-32002, `Resource not found: ${uri}`, { uri });
    }
    subscriptions.add(uri);
    return {};
  });
  lowLevel.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });

  // ----- prompts -----

  server.registerPrompt(
    'test_simple_prompt',
    { title: 'Simple prompt', description: 'A prompt without arguments.' },
    async () => ({ messages: [{ role: 'user', content: text('This is a simple prompt for testing.') }] }),
  );

  const completeFrom = (words) => (value) => words.filter((word) => word.startsWith(value ?? ''));
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      title: 'Prompt with arguments',
      description: 'A prompt with two required arguments, both completable.',
      argsSchema: {
        arg1: completable(z.string().describe('First test argument'), completeFrom(['test', 'testing', 'tested', 'paris'])),
        arg2: completable(z.string().describe('Second test argument'), completeFrom(['world', 'work', 'word'])),
      },
    },
    async ({ arg1, arg2 }) => ({
      messages: [{ role: 'user', content: text(`Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`) }],
    }),
  );

  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      title: 'Prompt with an embedded resource',
      description: 'A prompt whose first message embeds the resource named by its argument.',
      argsSchema: { resourceUri: z.string().describe('URI of the resource to embed') },
    },
    async ({ resourceUri }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' },
          },
        },
        { role: 'user', content: text('Please process the embedded resource above.') },
      ],
    }),
  );

  server.registerPrompt(
    'test_prompt_with_image',
    { title: 'Prompt with an image', description: 'A prompt whose first message is an image.' },
    async () => ({
      messages: [
        { role: 'user', content: { type: 'image', data: PNG_1X1, mimeType: 'image/png' } },
        { role: 'user', content: text('Please analyze the image above.') },
      ],
    }),
  );

  // ----- the 2026-07-28 scenarios, the 2025 way (see the top of the file) -----

  // A capability the client did not declare in initialize: the call fails as a 2026 server fails it, so that
  // the caller sees one error whether this server or the gateway (for a 2026 caller) found the gap.
  function requireCapability(name) {
    if (lowLevel.getClientCapabilities()?.[name]) return;
    throw new McpError(MISSING_CAPABILITY, `The client did not declare the ${name} capability, which this needs.`, {
      requiredCapabilities: { [name]: {} },
    });
  }

  // Asks the client (elicitation/create, sampling/createMessage, roots/list) for the call of `extra`, naming
  // the input `key`, and returns the answer once valid(answer) holds. An answer that is not valid (a form
  // without the field, a result of the wrong shape) is asked for again, by a new request with the same key,
  // so a bad value never goes into a result; after MAX_ASKS the call fails with -32602. A refusal (the client
  // answers with a JSON-RPC error) rejects with that error, which failingCall passes on.
  async function ask(extra, key, method, params, valid, signal = extra.signal) {
    for (let attempt = 1; ; attempt++) {
      const answer = await lowLevel.request(
        { method, params: { ...params, _meta: { [INPUT_KEY_META]: key } } },
        ResultSchema, // any object: the answer is checked here, so that a bad one is asked again, not dropped
        { ...clientRequestOptions(extra), signal },
      );
      if (valid(answer)) return answer;
      log(`${method} ${key}: answer ${attempt} of ${MAX_ASKS} is not valid: ${JSON.stringify(answer)}`);
      if (attempt === MAX_ASKS) {
        throw new McpError(-32602, `No valid answer for "${key}" (${method}) after ${MAX_ASKS} requests.`, {
          inputKey: key,
          answer,
        });
      }
    }
  }

  // Several requests at once: all are sent before any answer is awaited (so a gateway sees them together).
  // The first refusal cancels the others still waiting (notifications/cancelled) and fails the call. Each
  // request has its own signal: the SDK would send a cancellation for an already answered one too.
  async function askAll(extra, requests) {
    const asks = requests.map(() => ({ controller: new AbortController(), settled: false }));
    return Promise.all(
      requests.map(({ key, method, params, valid }, i) =>
        ask(extra, key, method, params, valid, AbortSignal.any([extra.signal, asks[i].controller.signal]))
          .catch((error) => {
            asks[i].settled = true;
            for (const other of asks) if (!other.settled) other.controller.abort(error);
            throw error;
          })
          .finally(() => (asks[i].settled = true)),
      ),
    );
  }

  // What each kind of answer must look like. An elicitation answer is valid when declined or cancelled too (the
  // person said no: the tool reports it); an accepted one must carry the field with the requested type.
  const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);
  const formAnswer = (field, type) => (answer) =>
    ['decline', 'cancel'].includes(answer.action) ||
    (answer.action === 'accept' && isObject(answer.content) && typeof answer.content[field] === type);
  const samplingAnswer = (answer) => {
    const content = Array.isArray(answer.content) ? answer.content : [answer.content];
    return content.length > 0 && content.every((c) => isObject(c) && typeof c.type === 'string');
  };
  const rootsAnswer = (answer) =>
    Array.isArray(answer.roots) && answer.roots.every((root) => isObject(root) && typeof root.uri === 'string');
  const samplingText = (answer) =>
    (Array.isArray(answer.content) ? answer.content : [answer.content]).map((c) => c.text ?? `[${c.type}]`).join('');
  // The field of an accepted elicitation answer; undefined when the person declined or cancelled.
  const formValue = (answer, field) => (answer.action === 'accept' ? answer.content[field] : undefined);

  const formRequest = (message, field, type) => ({
    method: 'elicitation/create',
    params: {
      message,
      requestedSchema: { type: 'object', properties: { [field]: { type } }, required: [field] },
    },
    valid: formAnswer(field, type),
  });
  const samplingRequest = (prompt, maxTokens) => ({
    method: 'sampling/createMessage',
    params: { messages: [{ role: 'user', content: text(prompt) }], maxTokens },
    valid: samplingAnswer,
  });
  const rootsRequest = () => ({ method: 'roots/list', params: {}, valid: rootsAnswer });
  const askFor = (extra, key, request) => ask(extra, key, request.method, request.params, request.valid);
  // The body of a tool that needs one client capability and asks the client one thing (input `key`): `say`
  // turns the answer into the text of the result.
  const askOnce = (capability, key, request, say) =>
    failingCall(async (_args, extra) => {
      requireCapability(capability);
      return { content: [text(say(await askFor(extra, key, request)))] };
    });
  // The confirmation of a { ok: boolean } form, or what the person did instead (decline, cancel).
  const confirmed = (answer) => formValue(answer, 'ok') ?? answer.action;
  // Asks for a confirmation (input key confirm) and reports it after `word`.
  const confirmTool = (word) =>
    askOnce(
      'elicitation',
      'confirm',
      formRequest('Please confirm', 'ok', 'boolean'),
      (answer) => `${word}: confirmed=${confirmed(answer)}`,
    );

  const noArguments = (description) => ({ description, inputSchema: {} });

  server.registerTool(
    'test_input_required_result_elicitation',
    noArguments('Asks the user for a name (elicitation, input key user_name) and greets them.'),
    askOnce('elicitation', 'user_name', formRequest('What is your name?', 'name', 'string'), (answer) => {
      const name = formValue(answer, 'name');
      return name === undefined ? `No name given (${answer.action}).` : `Hello, ${name}!`;
    }),
  );

  server.registerTool(
    'test_input_required_result_sampling',
    noArguments('Asks the client LLM a question (sampling, input key capital_question) and returns the answer.'),
    askOnce(
      'sampling',
      'capital_question',
      samplingRequest('What is the capital of France?', 100),
      (answer) => `Sampling result: ${samplingText(answer)}`,
    ),
  );

  server.registerTool(
    'test_input_required_result_list_roots',
    noArguments("Lists the client's roots (roots/list, input key client_roots) and names them."),
    askOnce(
      'roots',
      'client_roots',
      rootsRequest(),
      ({ roots }) => `Found ${roots.length} root(s): ${roots.map((root) => root.uri).join(', ')}`,
    ),
  );

  // The 2026 scenario wants the final text to say "state-ok", the server's word that it got its requestState
  // back intact. Here the state is the gateway's: that this call is still there to get the answer is the proof.
  server.registerTool(
    'test_input_required_result_request_state',
    noArguments('Asks for a confirmation (elicitation, input key confirm) and reports it with "state-ok".'),
    confirmTool('state-ok'),
  );

  server.registerTool(
    'test_input_required_result_multiple_inputs',
    noArguments('Asks for a name, an LLM greeting and the roots at once (keys user_name, greeting, client_roots).'),
    failingCall(async (_args, extra) => {
      for (const capability of ['elicitation', 'sampling', 'roots']) requireCapability(capability);
      const [person, greeting, { roots }] = await askAll(extra, [
        { key: 'user_name', ...formRequest('What is your name?', 'name', 'string') },
        { key: 'greeting', ...samplingRequest('Generate a greeting', 50) },
        { key: 'client_roots', ...rootsRequest() },
      ]);
      const name = formValue(person, 'name') ?? `(${person.action})`;
      return { content: [text(`Name: ${name}; Greeting: ${samplingText(greeting)}; Roots: ${roots.length}`)] };
    }),
  );

  server.registerTool(
    'test_input_required_result_multi_round',
    noArguments('Asks for a name (input key step1), then, once answered, for a colour (input key step2).'),
    failingCall(async (_args, extra) => {
      requireCapability('elicitation');
      const first = await askFor(extra, 'step1', formRequest('Step 1: What is your name?', 'name', 'string'));
      const name = formValue(first, 'name');
      if (name === undefined) return { content: [text(`Stopped at step 1 (${first.action}).`)] };
      const colorRequest = formRequest('Step 2: What is your favorite color?', 'color', 'string');
      const second = await askFor(extra, 'step2', colorRequest);
      const color = formValue(second, 'color');
      if (color === undefined) return { content: [text(`Stopped at step 2 for ${name} (${second.action}).`)] };
      return { content: [text(`Multi-round complete for ${name} who likes ${color}`)] };
    }),
  );

  // A 2025 server never sees a requestState: a tampered one is the gateway's to refuse (-32602) before this
  // call hears of it. The tool only has to ask something, so that there is a state to tamper with.
  server.registerTool(
    'test_input_required_result_tampered_state',
    noArguments('Asks for a confirmation (elicitation, input key confirm); the state integrity is the gateway\'s.'),
    confirmTool('integrity-ok'),
  );

  // Asks only for what the client declared, one request after the other, sampling first: a 2026 caller that
  // declared sampling alone sees a first round with sampling only. A request the client refuses anyway (a
  // gateway answering for a 2026 caller that lacks the capability) is done without, not a failure: this
  // tool's point is to make do with what the caller has.
  server.registerTool(
    'test_input_required_result_capabilities',
    noArguments('Asks for a sample (input key sample_input) and a form (elicit_input), each only if declared.'),
    async (_args, extra) => {
      const declared = lowLevel.getClientCapabilities() ?? {};
      const asks = [
        { capability: 'sampling', key: 'sample_input', ...samplingRequest('Sample request', 50) },
        { capability: 'elicitation', key: 'elicit_input', ...formRequest('Elicitation input', 'value', 'string') },
      ];
      const received = [];
      const refused = [];
      for (const { capability, key, method, params, valid } of asks) {
        if (!declared[capability]) continue;
        try {
          await ask(extra, key, method, params, valid);
          received.push(key);
        } catch (error) {
          if (!(error instanceof McpError) || extra.signal.aborted) throw error;
          refused.push(`${key} (${error.code})`);
        }
      }
      if (received.length === 0 && refused.length === 0) {
        return { content: [text('No supported capabilities declared')] };
      }
      const parts = [`capabilities-ok: received ${received.join(',') || 'nothing'}`];
      if (refused.length > 0) parts.push(`refused ${refused.join(',')}`);
      return { content: [text(parts.join('; '))] };
    },
  );

  // server-stateless calls this with no capabilities and expects -32021 naming sampling, with HTTP 400. A 2025
  // server asks for sampling and passes a refusal on as the call's error; it is the gateway, which knows
  // the 2026 caller declared nothing, that refuses (or answers -32021 itself).
  server.registerTool(
    'test_missing_capability',
    noArguments('Needs sampling (input key sampling_probe); a refusal is the call\'s JSON-RPC error.'),
    askOnce('sampling', 'sampling_probe', samplingRequest('Say hello.', 20), (a) => `Success: ${samplingText(a)}`),
  );

  // server-stateless reads the first frames of this call's response stream and checks that none is a request
  // to the client: a 2026 server asks through its result (InputRequiredResult), so the gateway must turn this
  // tool's elicitation/create into one instead of passing it on the stream.
  server.registerTool(
    'test_streaming_elicitation',
    noArguments('Asks a question in the middle of the call (elicitation, input key stream_confirm).'),
    askOnce(
      'elicitation',
      'stream_confirm',
      formRequest('Continue the streaming test?', 'ok', 'boolean'),
      (answer) => `Streaming complete: confirmed=${confirmed(answer)}`,
    ),
  );

  // server-stateless calls this without a log level and gives the stream 500 ms: the tool logs (as a 2025
  // server does, filtered only by logging/setLevel) and answers at once; keeping the log messages from a 2026
  // caller that asked for none is the gateway's work.
  server.registerTool(
    'test_logging_tool',
    noArguments('Sends two info log messages and answers at once.'),
    async (_args, extra) => {
      await logFor(extra, 'info', 'Diagnostic logging: started');
      await logFor(extra, 'info', 'Diagnostic logging: done');
      return { content: [text('Logging evaluated')] };
    },
  );

  // The list-changed checks of server-stateless call these while a subscriptions/listen stream is open. Each
  // call adds or removes a real tool or prompt, so the notification McpServer then sends tells the truth.
  const dynamicTool = server.registerTool(
    'test_dynamic_tool',
    noArguments('Listed only while test_trigger_tool_change has added it.'),
    async () => ({ content: [text('Dynamic tool called.')] }),
  );
  dynamicTool.disable();
  const dynamicPrompt = server.registerPrompt(
    'test_dynamic_prompt',
    { title: 'Dynamic prompt', description: 'Listed only while test_trigger_prompt_change has added it.' },
    async () => ({ messages: [{ role: 'user', content: text('This prompt comes and goes.') }] }),
  );
  dynamicPrompt.disable();
  const toggle = (registered, what) => {
    if (registered.enabled) registered.disable();
    else registered.enable();
    return { content: [text(`${what} ${registered.enabled ? 'added' : 'removed'}; list_changed sent.`)] };
  };
  server.registerTool(
    'test_trigger_tool_change',
    noArguments('Adds or removes test_dynamic_tool (notifications/tools/list_changed follows).'),
    async () => toggle(dynamicTool, 'test_dynamic_tool'),
  );
  server.registerTool(
    'test_trigger_prompt_change',
    noArguments('Adds or removes test_dynamic_prompt (notifications/prompts/list_changed follows).'),
    async () => toggle(dynamicPrompt, 'test_dynamic_prompt'),
  );

  // prompts/get of this prompt asks for input, the way the tools above do (input-required-result-non-tool-request).
  // McpServer passes a prompt's exceptions on as JSON-RPC errors already.
  server.registerPrompt(
    'test_input_required_result_prompt',
    { title: 'Prompt that asks for input', description: 'Asks the user for a context (input key user_context).' },
    async (extra) => {
      requireCapability('elicitation');
      const answer = await askFor(
        extra,
        'user_context',
        formRequest('What context should the prompt use?', 'context', 'string'),
      );
      const context = formValue(answer, 'context');
      return {
        messages: [
          {
            role: 'user',
            content: text(
              context === undefined ? `No context given (${answer.action}).` : `Use this context: ${context}`,
            ),
          },
        ],
      };
    },
  );

  // An SDK that installed its tools/call handler some other way would turn those errors into results unseen.
  if (!callToolWrapped) throw new Error('McpServer installed no tools/call handler through setRequestHandler');
  return server;
}

// ----- run on stdio -----

async function main() {
  const server = createConformanceServer();
  const transport = new StdioServerTransport();
  let exiting = false;
  const exit = (reason) => {
    if (exiting) return;
    exiting = true;
    log(`exiting: ${reason}`);
    setTimeout(() => process.exit(0), 1000).unref();
    server.close().finally(() => process.exit(0));
  };
  // The SDK's stdio transport does not notice the end of stdin; the gateway stops a child by closing it.
  process.stdin.on('end', () => exit('stdin closed'));
  process.stdin.on('close', () => exit('stdin closed'));
  process.on('SIGTERM', () => exit('SIGTERM'));
  process.on('SIGINT', () => exit('SIGINT'));
  transport.onerror = (error) => log(`transport error: ${error.message}`);
  await server.connect(transport);
  log(`ready (pid ${process.pid})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) await main();
