# mcp-gateway as a container image (README, "Running it" > "Docker"):
#   docker build -t mcp-gateway .
#   docker run -d --name mcp-gateway -p 127.0.0.1:3001:3001 --stop-timeout 30 --env-file mcp-gateway.env \
#     -v "$PWD/examples/docker:/etc/mcp-gateway:ro" mcp-gateway
#
# NODE_IMAGE: an official Node.js image on Debian (it has apt and a `node` user, uid 1000), Node >= 20.11.
# Written for the classic builder as well as BuildKit (Debian's docker.io 20.10 and docker-compose 1.29
# build with the classic one): no RUN --mount, no COPY --link.
ARG NODE_IMAGE=node:22-bookworm-slim

# Build: every dependency the lock file names (tsc is a dev dependency), then src/ → dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the package's own `prepare` (the build) would run before src/ is here; it runs below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
# src/cli/service-unit.ts takes the heap flags from bin/heap-flags.js (one list for every start path).
COPY bin/ bin/
RUN npm run build

# Runtime: production dependencies only, the compiled dist/, and what it reads at run time.
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: passes SIGTERM (docker stop) and the other signals on to the gateway, and reaps orphaned
# grandchildren of the MCP servers, which node (as PID 1) would leave as zombies. Not `tini -g`: the
# gateway stops its children itself, each process group in order (README, "Supervision").
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/mcp-gateway
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build, and tsc is not installed here (dist/ comes from the build stage).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf /root/.npm
# schemas/ before dist/: bin/build-state.js runs dist/ only when it is newer than schemas/ (no src/ here).
COPY schemas/ schemas/
COPY static/ static/
COPY bin/ bin/
COPY examples/servers/ examples/servers/
COPY --from=build /src/dist/ dist/
# The manifest the image serves unless a folder is mounted over /etc/mcp-gateway (mount the FOLDER, not
# the file: an editor that saves by replacing the file leaves a single-file bind mount on the old one).
COPY examples/docker/mcp-gateway.yaml /etc/mcp-gateway/mcp-gateway.yaml
RUN ln -s /opt/mcp-gateway/bin/mcp-gateway.js /usr/local/bin/mcp-gateway

ENV MCP_GATEWAY_CONFIG=/etc/mcp-gateway/mcp-gateway.yaml
# So that `docker run IMAGE validate` (and `plan`) find the manifest as ./mcp-gateway.yaml.
WORKDIR /etc/mcp-gateway
# The official image's unprivileged user; its HOME (/home/node) is where npx keeps its cache. Everything
# under /opt/mcp-gateway and /etc/mcp-gateway belongs to root: the gateway cannot change its own code.
USER node
EXPOSE 3001
# docker stop sends SIGTERM; the gateway drains for listen.shutdownGrace (10 s), then stops its children
# (1 s, then up to stopTimeout twice: 21 s in all with the defaults) and exits 0. Docker's own grace is
# 10 s: give `docker run --stop-timeout 30` / `docker stop -t 30` (compose.yaml: stop_grace_period: 30s).
STOPSIGNAL SIGTERM
# 200 once the first manifest has been applied, 503 while shutting down; node itself, no curl in the image.
# Follows PORT; a manifest that sets another port without PORT, or listen.tls, needs its own HEALTHCHECK.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3001)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The heap flags on node's command line (README, "Memory"), so `run` does not start itself again.
# `docker run --rm IMAGE validate`, `… hash-key --generate` run the other commands.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=2", "--max-old-space-size=256", "/opt/mcp-gateway/bin/mcp-gateway.js"]
CMD ["run"]
