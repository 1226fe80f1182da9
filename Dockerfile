# syntax=docker/dockerfile:1
# One image for every process of the cluster. The entry point is `node --import tsx` (TypeScript runs
# as-is, no build step); the command names the service to start: services/<name>/src/main.ts with
# <name> one of edge, message, presence, storage, admin, or the default, the all-in-one embedded server.
# tsx is loaded in-process (not the `tsx` CLI, which forks a child): SIGTERM reaches the service
# itself, which drains gracefully (protocol.md §6 Shutdown). test/deploy/dockerfile.test.ts keeps this
# file in step with package.json and packages/core/src/config.ts.
FROM node:24-bookworm-slim

# The pnpm of package.json's "packageManager", installed from the npm registry.
RUN npm install --global pnpm@12.4.2 && npm cache clean --force

WORKDIR /app

# Dependencies first, from the lockfile alone, so that a code change reuses this layer.
# patches/: the pnpm patches of dependencies (pnpm-workspace.yaml patchedDependencies).
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY patches ./patches
RUN pnpm fetch --prod=false

# The workspace (see .dockerignore), then an offline install that links the workspace packages.
# --prod=false: tsx, the runtime loader, is a devDependency of the root.
COPY . .
RUN pnpm install --frozen-lockfile --offline --prod=false

# Embedded mode keeps its SQLite database (im.db) here; mount a volume on it to keep it.
RUN mkdir -p /data && chown node:node /data
ENV IM_DATA_DIR=/data

# Non-root: the `node` user (uid 1000) of the base image; the code and node_modules stay root-owned.
USER node

# edge TCP (and TLS, WebSocket), admin/metrics HTTP, message/presence/storage gRPC (DEFAULT_PORTS in packages/core/src/config.ts).
EXPOSE 7100 7143 7180 7201 7202 7203 7300

ENTRYPOINT ["node", "--import", "tsx"]
CMD ["services/embedded/src/main.ts"]
