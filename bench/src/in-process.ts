/**
 * The services of the embedded composition (services/embedded/src/server.ts) on in-memory routes,
 * bus and groups, over a given message store: what the bench-only servers put behind an edge.
 */
import {
  type Config,
  decodeLimits,
  type Logger,
  MemoryBus,
  MemoryGroupDirectory,
  MemoryPublicKeyStore,
  MemoryRouteStore,
  MessageService,
  type MessageStore,
  PresenceService,
  SnowflakeUid,
} from '@im/core';

export interface InProcessServices {
  routes: MemoryRouteStore;
  bus: MemoryBus;
  message: MessageService;
  presence: PresenceService;
}

export function inProcessServices(config: Config, logger: Logger, store: MessageStore): InProcessServices {
  const routes = new MemoryRouteStore({ ttlMs: config.routes.ttlMs });
  const bus = new MemoryBus({
    onHandlerError: (err, node) => logger.error({ err, nodeId: node }, 'delivery handler failed'),
  });
  const message = new MessageService({
    decodeLimits: decodeLimits(config.edge),
    store,
    routes,
    bus,
    uid: new SnowflakeUid(config.message.workerId),
    groups: new MemoryGroupDirectory(),
    config: config.message,
    logger,
  });
  const presence = new PresenceService({ routes, bus, keys: new MemoryPublicKeyStore(), logger });
  return { routes, bus, message, presence };
}
