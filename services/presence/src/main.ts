// Entry point of the presence service: `pnpm --filter @im/presence start` (tsx src/main.ts).
// Env (packages/core/src/config.ts ENV_VARS): REDIS_URL, IM_REDIS_PREFIX, KAFKA_BROKERS, IM_KAFKA_TOPIC_PREFIX,
// IM_ROUTE_TTL_MS,
// IM_PRESENCE_ADDR (listens on 0.0.0.0:<its port>), IM_ADMIN_HOST / IM_ADMIN_PORT, LOG_LEVEL.
import { createLogger, loadConfig } from '@im/core';
import { createRegistry, runService } from '@im/rpc';
import { startPresenceService } from './service.js';

const config = loadConfig(process.env);
const logger = createLogger('presence', config);
const registry = createRegistry();

runService({
  name: 'presence',
  admin: config.admin,
  registry,
  logger,
  start: () => startPresenceService(config, logger, registry),
}).catch((err: unknown) => {
  logger.fatal({ err }, 'presence: failed to start');
  process.exit(1);
});
