// Entry point of the storage service: `pnpm --filter @im/storage start` (tsx src/main.ts).
// Env (packages/core/src/config.ts ENV_VARS): DATABASE_URL, IM_DB_SCHEMA, IM_STORAGE_ADDR (listens on 0.0.0.0:<its port>),
// IM_ADMIN_HOST / IM_ADMIN_PORT (/healthz, /readyz, /metrics), LOG_LEVEL.
import { createLogger, loadConfig, setupTracing } from '@im/core';
import { createRegistry, runService } from '@im/rpc';
import { startStorageService } from './service.js';

const config = loadConfig(process.env);
const logger = createLogger('storage', config);
const registry = createRegistry();
// OTEL_* (config.ts tracing): off unless an exporter is set; the last spans are flushed before exit.
const tracing = setupTracing(config.tracing, 'im-storage');

runService({
  name: 'storage',
  admin: config.admin,
  registry,
  logger,
  exit: (code) => void tracing.shutdown().finally(() => process.exit(code)),
  start: () => startStorageService(config, logger, registry),
}).catch((err: unknown) => {
  logger.fatal({ err }, 'storage: failed to start');
  process.exit(1);
});
