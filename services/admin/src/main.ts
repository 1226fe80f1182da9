// Entry point of the admin API in the cluster: `pnpm --filter @im/admin start` (tsx src/main.ts).
// Env (packages/core/src/config.ts ENV_VARS): IM_ADMIN_SECRET (required), IM_ADMIN_HOST / IM_ADMIN_PORT,
// IM_ADMIN_DEV_TOKENS + IM_JWT_SECRET (POST /v1/tokens), IM_PRESENCE_ADDR, IM_STORAGE_ADDR,
// IM_GRPC_DEADLINE_MS, REDIS_URL, IM_REDIS_PREFIX, IM_ROUTE_TTL_MS, IM_RSA_PRIVATE_KEY(_FILE), LOG_LEVEL.
// On SIGTERM / SIGINT: /readyz turns 503, in-flight requests finish, then it exits (bounded).
import { ConfigError, createLogger, loadConfig, loadServerKeys } from '@im/core';
import { createRegistry } from '@im/rpc';
import { startClusterAdmin } from './cluster.js';

const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger('admin', config);
  const keys = await loadServerKeys(config.serverKey);
  const admin = await startClusterAdmin(config, logger, createRegistry(), {
    serverPublicKey: () => keys?.publicKeyPem ?? null,
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'admin: shutting down');
    admin.server.setDraining();
    setTimeout(() => process.exit(1), SHUTDOWN_TIMEOUT_MS).unref();
    admin.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'admin: shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? `configuration error: ${err.message}` : String(err);
  process.stderr.write(
    `admin: failed to start: ${err instanceof Error && !(err instanceof ConfigError) ? err.stack : message}\n`,
  );
  process.exit(err instanceof ConfigError ? 2 : 1);
});
