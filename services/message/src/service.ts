import {
  type Config,
  KafkaBus,
  type Logger,
  MemoryGroupDirectory,
  MessageService,
  RedisRouteStore,
  SnowflakeUid,
} from '@im/core';
import { portOf, type Registry, readiness, type ServiceParts, StorageClient, serveMessage } from '@im/rpc';

export interface MessageServiceOptions {
  /** Listen host of the gRPC server; default 0.0.0.0 (tests: 127.0.0.1). */
  host?: string;
  /** Redis key prefix of the routes (tests: a unique one); default the store's. */
  keyPrefix?: string;
  /** Kafka topic prefix (tests: a unique one); default the bus's. */
  topicPrefix?: string;
}

/**
 * The message service: MessageService over the storage service (gRPC), routes in Redis and
 * deliveries through Kafka, served over gRPC as im.internal.MessageService for the edges.
 *
 * Follow-ups: the uid worker id comes from config (IM_WORKER_ID), so every replica must be given
 * a distinct one by hand until it is leased from Redis; groups live in this process's memory
 * (MemoryGroupDirectory, empty: every group send is NOT_FOUND) until the admin API's SQL
 * directory exists.
 */
export async function startMessageService(
  config: Config,
  logger: Logger,
  registry: Registry,
  opts: MessageServiceOptions = {},
): Promise<ServiceParts> {
  const store = new StorageClient(config.grpc.storageAddr, { deadlineMs: config.grpc.deadlineMs });
  const routes = new RedisRouteStore({
    url: config.redisUrl,
    ttlMs: config.routes.ttlMs,
    prefix: opts.keyPrefix,
  });
  const bus = new KafkaBus({
    brokers: config.kafkaBrokers,
    clientId: 'im-message',
    topicPrefix: opts.topicPrefix,
  });
  const service = new MessageService({
    store,
    routes,
    bus,
    uid: new SnowflakeUid(config.message.workerId),
    groups: new MemoryGroupDirectory(),
    config: config.message,
    logger,
  });
  // After the server finished its calls: hand queued fan-out to the bus, then close the backends.
  const close = async () => {
    await service.close();
    await Promise.allSettled([store.close(), routes.close(), bus.close()]);
  };
  try {
    const server = await serveMessage(service, {
      host: opts.host,
      port: portOf(config.grpc.messageAddr),
      registry,
      logger,
    });
    return {
      server,
      // The storage service's channel connects, and a real round trip to Redis. Kafka has no probe yet.
      ready: readiness(
        { storage: () => store.ready(config.grpc.deadlineMs), redis: () => routes.lookup(['\u0000readyz']) },
        logger,
      ),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
