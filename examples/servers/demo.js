#!/usr/bin/env node
// A small, dependency-free MCP server on stdio (newline-delimited JSON-RPC), bundled so that
// `npm start` works offline and the tests have a real child to talk to.
// Tools: echo, add, greet, slow (reports progress, honours cancellation), fail (a tool error),
// crash (exits the process), log (writes a line to stderr), ping_client / sample / list_roots (ask the
// client and report its answer), changed (tools/list_changed), touch (resources/updated for a URI),
// env_names (the names of its environment variables, never their values), big (a text of `bytes`
// bytes, after `ms` with one progress report),
// and one resource per name under demo://notes/<name>, subscribable.
// Test switches (environment): DEMO_NOISE=1 writes a non-JSON line to stdout at start; DEMO_TRACE=1 logs
// every method received to stderr; DEMO_STUBBORN=1 ignores SIGTERM and the end of stdin;
// DEMO_INIT_DELAY_MS answers initialize that much later (a slow first start); DEMO_EXTRA_TOOL=<name>
// lists one more tool of that name (a new version of the server, as a rollout sees it); DEMO_HANG_AFTER_MS
// blocks the event loop for good that long after start (a deadlocked child, as liveness pings see it).
import { createInterface } from 'node:readline';

const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];
const greeting = process.env.GREETING ?? 'hello';
const inFlight = new Map(); // request id (as JSON) -> cancel function
const asked = new Map(); // id of a request we sent to the client -> resolve
let nextAsk = 1;

const tools = [
  {
    name: 'echo',
    description: 'Returns its text argument unchanged.',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  },
  {
    name: 'pid',
    description: "Returns this server process's pid (tests tell children apart by it).",
    inputSchema: { type: 'object', properties: {} },
  },
  {
    name: 'add',
    description: 'Adds two numbers.',
    inputSchema: {
      type: 'object',
      properties: { a: { type: 'number' }, b: { type: 'number' } },
      required: ['a', 'b'],
    },
  },
  {
    name: 'greet',
    description: 'Greets someone with the GREETING from the environment.',
    inputSchema: { type: 'object', properties: { name: { type: 'string' } } },
  },
  {
    name: 'slow',
    description: 'Waits `ms` milliseconds in `steps` steps, reporting progress after each one.',
    inputSchema: {
      type: 'object',
      properties: { ms: { type: 'number', default: 1000 }, steps: { type: 'number', default: 5 } },
    },
  },
  {
    name: 'fail',
    description: 'Always fails with a tool error (isError: true).',
    inputSchema: { type: 'object', properties: { message: { type: 'string' } } },
  },
  {
    name: 'crash',
    description: 'Exits the server process with the given code (default 1).',
    inputSchema: { type: 'object', properties: { code: { type: 'number' } } },
  },
  {
    name: 'ping_client',
    description: 'Sends a ping to the client and reports whether it answered.',
    inputSchema: { type: 'object', properties: {} },
  },
  {
    name: 'sample',
    description: 'Asks the client to sample (sampling/createMessage) and returns its text.',
    inputSchema: { type: 'object', properties: { prompt: { type: 'string' } } },
  },
  {
    name: 'list_roots',
    description: 'Asks the client for its roots (roots/list) and returns their URIs.',
    inputSchema: { type: 'object', properties: {} },
  },
  {
    name: 'changed',
    description: 'Sends notifications/tools/list_changed.',
    inputSchema: { type: 'object', properties: {} },
  },
  {
    name: 'touch',
    description: 'Sends notifications/resources/updated for the given URI.',
    inputSchema: { type: 'object', properties: { uri: { type: 'string' } }, required: ['uri'] },
  },
  {
    name: 'env_names',
    description: 'Lists the names (never the values) of the environment variables this server sees.',
    inputSchema: { type: 'object', properties: {} },
  },
  {
    name: 'big',
    description: 'Returns a text of `bytes` bytes (ASCII), for tests of large answers; with `ms`, reports progress once and waits that long first.',
    inputSchema: { type: 'object', properties: { bytes: { type: 'number' }, ms: { type: 'number' } }, required: ['bytes'] },
  },
  {
    name: 'log',
    description: 'Writes its text to stderr.',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  },
];
if (process.env.DEMO_EXTRA_TOOL) {
  tools.push({ name: process.env.DEMO_EXTRA_TOOL, description: 'A tool only this version has.', inputSchema: { type: 'object', properties: {} } });
}
if (process.env.DEMO_HANG_AFTER_MS) {
  setTimeout(() => {
    for (;;); // never returns: no message is read or written again
  }, Number(process.env.DEMO_HANG_AFTER_MS));
}

function send(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

function text(t, isError = false) {
  return isError ? { content: [{ type: 'text', text: t }], isError: true } : { content: [{ type: 'text', text: t }] };
}

async function callTool(id, params) {
  const args = params.arguments ?? {};
  switch (params.name) {
    case 'echo':
      return text(String(args.text ?? ''));
    case 'pid':
      return text(String(process.pid));
    case 'add':
      return text(String(Number(args.a) + Number(args.b)));
    case 'greet':
      return text(`${greeting}, ${args.name ?? 'world'}!`);
    case 'fail':
      return text(String(args.message ?? 'this tool always fails'), true);
    case 'log':
      process.stderr.write(String(args.text) + '\n');
      return text('logged');
    case 'ping_client': {
      const reply = await ask('ping', {});
      return text(reply.error ? `ping failed: ${reply.error.message}` : 'pong');
    }
    case 'sample': {
      const reply = await ask('sampling/createMessage', {
        messages: [{ role: 'user', content: { type: 'text', text: String(args.prompt ?? 'hello') } }],
        maxTokens: 50,
      });
      return reply.error ? text(`sampling failed: ${reply.error.message}`, true) : text(reply.result.content.text);
    }
    case 'list_roots': {
      const reply = await ask('roots/list', {});
      return reply.error ? text(`roots failed: ${reply.error.message}`, true) : text(reply.result.roots.map((r) => r.uri).join(','));
    }
    case 'big': {
      const ms = Number(args.ms ?? 0);
      const token = params._meta?.progressToken;
      if (ms > 0) {
        if (token !== undefined) send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: 0, total: 1 } });
        await new Promise((r) => setTimeout(r, ms));
      }
      return text('x'.repeat(Math.max(0, Math.floor(Number(args.bytes) || 0))));
    }
    case 'env_names':
      return text(Object.keys(process.env).sort().join(','));
    case 'changed':
      send({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
      return text('sent');
    case 'touch':
      send({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: String(args.uri) } });
      return text('sent');
    case 'crash':
      process.exit(Number(args.code ?? 1));
      break;
    case 'slow': {
      const ms = Number(args.ms ?? 1000);
      const steps = Math.max(1, Number(args.steps ?? 5));
      const token = params._meta?.progressToken;
      let cancelled = false;
      inFlight.set(JSON.stringify(id), () => (cancelled = true));
      try {
        for (let i = 1; i <= steps; i++) {
          await new Promise((r) => setTimeout(r, ms / steps));
          if (cancelled) return undefined;
          if (token !== undefined) {
            send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: i, total: steps } });
          }
        }
      } finally {
        inFlight.delete(JSON.stringify(id));
      }
      return text(`waited ${ms}ms`);
    }
    default:
      throw Object.assign(new Error(`unknown tool: ${params.name}`), { code: -32602 });
  }
}

/** Sends a request to the client and waits for its answer. */
function ask(method, params) {
  const id = `ask-${nextAsk++}`;
  const answer = new Promise((resolve) => asked.set(id, resolve));
  send({ jsonrpc: '2.0', id, method, params });
  return answer;
}

async function handle(msg) {
  if (process.env.DEMO_TRACE) process.stderr.write(`trace: ${msg.method ?? 'response'}\n`);
  if (msg.method === undefined) {
    asked.get(msg.id)?.(msg);
    asked.delete(msg.id);
    return;
  }
  if (msg.id === undefined) {
    if (msg.method === 'notifications/cancelled') inFlight.get(JSON.stringify(msg.params?.requestId))?.();
    return;
  }
  try {
    let result;
    switch (msg.method) {
      case 'initialize': {
        const delay = Number(process.env.DEMO_INIT_DELAY_MS ?? 0);
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        const asked = msg.params?.protocolVersion;
        result = {
          protocolVersion: PROTOCOL_VERSIONS.includes(asked) ? asked : PROTOCOL_VERSIONS[0],
          capabilities: { tools: { listChanged: true }, resources: { subscribe: true } },
          serverInfo: { name: 'demo', version: '1.0.0' },
        };
        break;
      }
      case 'ping':
        result = {};
        break;
      case 'tools/list':
        result = { tools };
        break;
      case 'resources/list':
        result = { resources: [{ uri: 'demo://notes/hello', name: 'hello', mimeType: 'text/plain' }] };
        break;
      case 'resources/read': {
        const uri = String(msg.params?.uri ?? '');
        result = { contents: [{ uri, mimeType: 'text/plain', text: `note ${uri.split('/').pop()}` }] };
        break;
      }
      case 'resources/subscribe':
      case 'resources/unsubscribe':
      case 'logging/setLevel':
        result = {};
        break;
      case 'tools/call':
        result = await callTool(msg.id, msg.params ?? {});
        if (result === undefined) return; // cancelled: the spec says send nothing
        break;
      default:
        send({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: `method not found: ${msg.method}` } });
        return;
    }
    send({ jsonrpc: '2.0', id: msg.id, result });
  } catch (err) {
    send({ jsonrpc: '2.0', id: msg.id, error: { code: err.code ?? -32603, message: err.message } });
  }
}

if (process.env.DEMO_NOISE) process.stdout.write('demo server starting (this line is not JSON)\n');

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
// The gateway closing stdin (or dying) is our signal to go.
// Work already under way finishes first, like a well-behaved stdio server.
let pending = 0;
let closing = false;
const done = () => closing && pending === 0 && process.exit(0);
lines.on('line', (line) => {
  if (line.trim() === '') return;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
    return;
  }
  pending++;
  void handle(msg).finally(() => {
    pending--;
    done();
  });
});
lines.on('close', () => {
  if (process.env.DEMO_STUBBORN) return;
  closing = true;
  done();
});
if (process.env.DEMO_STUBBORN) {
  process.on('SIGTERM', () => process.stderr.write('ignoring SIGTERM\n'));
  setInterval(() => {}, 1 << 30); // stay up after stdin ends
}
