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
// Diagnostics go to stderr (stdout is the protocol). Exits when stdin closes.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { McpError, SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
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

const log = (message) => process.stderr.write(`conformance-server: ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (value) => ({ type: 'text', text: value });

// One McpServer with everything registered; the stdio entry point below connects one to stdin/stdout.
// Exported so that the same server can be put behind another SDK transport (e.g. Streamable HTTP) to compare.
export function createConformanceServer() {
  const server = new McpServer(
    { name: 'mcp-gateway-conformance-server', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
      instructions: 'Test server for the MCP conformance suite. Every tool, resource and prompt is a fixture.',
    },
  );
  const lowLevel = server.server;

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
