// Entry point of the message service: `pnpm --filter @im/message start` (tsx src/main.ts).
// Env (packages/core/src/config.ts ENV_VARS): IM_STORAGE_ADDR, IM_GRPC_DEADLINE_MS, REDIS_URL, KAFKA_BROKERS,
// IM_WORKER_ID (distinct per replica; unset: leased from Redis), IM_REDIS_PREFIX, IM_KAFKA_TOPIC_PREFIX,
// IM_RECALL_WINDOW_MS, IM_PUSH_MAX_*, IM_ROUTE_TTL_MS,
// IM_MESSAGE_ADDR (listens on 0.0.0.0:<its port>), IM_ADMIN_HOST / IM_ADMIN_PORT, LOG_LEVEL.
import { createLogger, loadConfig, setupTracing } from '@im/core';
import { createRegistry, runService } from '@im/rpc';
import { startMessageService } from './service.js';

const config = loadConfig(process.env);
const logger = createLogger('message', config);
const registry = createRegistry();
// OTEL_* (config.ts tracing): off unless an exporter is set; the last spans are flushed before exit.
const tracing = setupTracing(config.tracing, 'im-message');

runService({
  name: 'message',
  admin: config.admin,
  registry,
  logger,
  exit: (code) => void tracing.shutdown().finally(() => process.exit(code)),
  start: () => startMessageService(config, logger, registry),
}).catch((err: unknown) => {
  logger.fatal({ err }, 'message: failed to start');
  process.exit(1);
});
