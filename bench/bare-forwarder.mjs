// The ceiling: the smallest HTTP → stdio forwarder that still rewrites ids. One child, node:http, no
// sessions, no checks. The gateway is measured against this in the same run (npm run bench).
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
const pending = new Map();
let next = 1;
let buf = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk) => {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf('\n')) !== -1) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    const msg = JSON.parse(line);
    const p = pending.get(msg.id);
    if (p === undefined) continue;
    pending.delete(msg.id);
    msg.id = p.id;
    const body = JSON.stringify(msg);
    p.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'mcp-session-id': 'bare' });
    p.res.end(body);
  }
});

const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    if (req.method !== 'POST') return res.writeHead(405).end();
    const msg = JSON.parse(body);
    if (msg.id === undefined) return res.writeHead(202).end();
    const gid = next++;
    pending.set(gid, { id: msg.id, res });
    msg.id = gid;
    child.stdin.write(JSON.stringify(msg) + '\n');
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${server.address().port}` })));
process.on('SIGTERM', () => {
  child.kill();
  process.exit(0);
});
