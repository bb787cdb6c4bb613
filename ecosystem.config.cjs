// PM2: `pm2 start ecosystem.config.cjs` runs the gateway on ./mcp-gateway.yaml (PORT in the environment
// overrides its port). One process in fork mode: the gateway owns its children and their sessions, so
// cluster mode (several gateways behind one port) would start every server once per instance.
// Manifest edits need no PM2 command: the gateway watches the file. `pm2 sendSignal SIGHUP mcp-gateway`
// re-reads it at once. `pm2 reload` in fork mode is a restart (new process, children started again).
// test/deploy/pm2.test.ts runs this file with the real pm2.
const path = require('node:path');

module.exports = {
  apps: [
    {
      name: 'mcp-gateway',
      script: path.join(__dirname, 'bin', 'mcp-gateway.js'),
      args: ['run', '--config', 'mcp-gateway.yaml'],
      cwd: __dirname,
      // The heap flags of `npm start` on node's command line, so `run` does not start node again with them
      // (bin/heap-flags.js): PM2 then watches the process that serves.
      node_args: ['--max-semi-space-size=2', '--max-old-space-size=256'],
      exec_mode: 'fork',
      instances: 1,
      autorestart: true,
      // A gateway that keeps failing within 10 s of its start (a manifest that does not load, a port in use)
      // is given up after 10 tries, with 2 s between them, as systemd's StartLimitBurst does.
      min_uptime: '10s',
      max_restarts: 10,
      restart_delay: 2000,
      // `pm2 stop` sends SIGINT to the gateway alone (treekill: false, like systemd's KillMode=mixed): it
      // drains requests in flight (listen.shutdownGrace, 10 s) and stops its children in order. PM2's
      // default would signal every child at the same moment and kill the requests in flight with them.
      treekill: false,
      kill_timeout: 45000,
      watch: false,
    },
  ],
};
