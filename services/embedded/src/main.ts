/**
 * Embedded mode entry point: `tsx services/embedded/src/main.ts` (or `pnpm start`).
 * Reads the environment once (packages/core config.ts), starts the one-process server, and on
 * SIGINT/SIGTERM drains the connections gradually, then closes (protocol.md §6 Shutdown).
 */
import { resolve } from 'node:path';
import {
  ConfigError,
  createLogger,
  HS256_IGNORED_WARNING,
  hs256SecretIgnored,
  loadConfig,
  prepareDataDir,
  StoreOpenError,
  setupTracing,
} from '@im/core';
import { DEV_ADMIN_SECRET_FILE, readOrCreateDevSecret } from './dev-secret.js';
import { startEmbedded } from './server.js';

const DEFAULT_NODE_ID = 'embedded-1';
/** Beyond the drain grace period, closing the store and bus may take this long before we give up. */
const CLOSE_BUDGET_MS = 5_000;

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    // Embedded defaults (config.ts EMBEDDED_DEFAULTS): the admin API on loopback, development tokens on.
    config = loadConfig(process.env, {}, 'embedded');
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  config.nodeId ||= DEFAULT_NODE_ID;
  config.dataDir = resolve(config.dataDir);
  const logger = createLogger(config.nodeId, config);
  // Before anything writes there (the development secrets): an unusable one is said plainly.
  prepareDataDir(config.dataDir);

  // Tokens from a company's auth service (JWKS) need no development secret.
  if (!config.auth.jwtSecret && !config.auth.jwksUrl && !config.auth.jwksFile) {
    const dev = await readOrCreateDevSecret(config.dataDir);
    config.auth.jwtSecret = dev.secret;
    printDevHelp(dev.path, dev.created);
  } else if (hs256SecretIgnored(config.auth)) {
    logger.warn(HS256_IGNORED_WARNING);
  }

  // The admin API (docs/admin-api.md) always runs in embedded mode: with a development secret
  // kept next to the JWT one when IM_ADMIN_SECRET is not set.
  let adminSecretPath: string | null = null;
  if (!config.admin.secret) {
    const dev = await readOrCreateDevSecret(config.dataDir, DEV_ADMIN_SECRET_FILE);
    config.admin.secret = dev.secret;
    adminSecretPath = dev.path;
  }

  // OTEL_* (config.ts tracing): off unless an exporter is set; flushed before a clean exit.
  const tracing = setupTracing(config.tracing, 'im-embedded');
  // startEmbedded logs the node id, host, port and data dir once it listens.
  const server = await startEmbedded(config, { logger });
  if (server.admin) printAdminHelp(config.admin.host, server.admin.port, adminSecretPath);
  if (server.admin && config.admin.webDemo) printDemoHelp(config.admin.host, server.admin.port);

  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) {
      logger.info({ signal }, 'shutdown already in progress');
      return;
    }
    shuttingDown = true;
    const graceMs = config.edge.drainGraceMs;
    logger.info({ signal, graceMs }, 'shutting down: draining connections');
    // Bounded in time: if draining or closing hangs, exit anyway (acked messages are already durable).
    const deadline = setTimeout(() => {
      logger.error({ graceMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, graceMs + CLOSE_BUDGET_MS);
    deadline.unref();
    void (async () => {
      try {
        await server.drain(graceMs);
        await server.close();
        await tracing.shutdown();
        logger.info('shutdown complete');
        process.exit(0);
      } catch (err) {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

// docs/security.md, Defaults: a secret is never printed (terminals are logged, scrolled back and
// shared); the path of its file is, with a command that reads it.
function printDevHelp(path: string, created: boolean): void {
  const lines = [
    '',
    `Development JWT secret ${created ? 'created' : 'read'}: ${path} (mode 0600; not printed)`,
    `  export IM_JWT_SECRET="$(cat ${shellQuote(path)})"   # to sign tokens in your own code`,
    '  (set IM_JWT_SECRET yourself for anything but development)',
    '',
    'Try it in two more terminals (the CLI reads the same secret file):',
    '  pnpm im listen --as bob',
    '  pnpm im send --as alice bob "hello"',
    '  pnpm im chat --as alice bob   # interactive',
    '  pnpm im token alice        # a token for your own client',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The address a person on this machine types for a listener on `host`. */
function localAddress(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
}

function printDemoHelp(host: string, port: number): void {
  const lines = [
    `Web chat demo: http://${localAddress(host)}:${port}/demo/  (log in as any user; development only)`,
    '  open it in two tabs, or chat with a terminal: pnpm im chat --as bob alice',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function printAdminHelp(host: string, port: number, secretPath: string | null): void {
  const where = localAddress(host);
  const bearer = secretPath ? `$(cat ${shellQuote(secretPath)})` : '$IM_ADMIN_SECRET';
  const lines = [
    '',
    `Admin API on http://${where}:${port} (listening on ${host}; docs/admin-api.md, OpenAPI at /openapi.json)`,
    secretPath
      ? `  development bearer secret in ${secretPath} (mode 0600; not printed)`
      : '  bearer secret: IM_ADMIN_SECRET',
    `  curl -H "authorization: Bearer ${bearer}" http://${where}:${port}/v1/users/alice/devices`,
    '  pnpm im group create team alice bob   # the CLI reads the same secret file',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** A path as one shell word. */
function shellQuote(path: string): string {
  return /^[\w./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

main().catch((err) => {
  if (err instanceof StoreOpenError) {
    // The operator's problem, said plainly (docs/storage.md "Faults"); a stack would bury it.
    process.stderr.write(`embedded server failed to start: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `embedded server failed to start: ${err instanceof Error ? err.stack : String(err)}\n`,
  );
  process.exit(1);
});
