import {
  CHATROOM_KEY_PREFIX,
  ChatroomService,
  type Config,
  decodeLimits,
  KafkaBus,
  LeasedUid,
  type Logger,
  MessageService,
  RedisChatroomRegistry,
  RedisRouteStore,
  RedisWorkerLease,
  SnowflakeUid,
  type UidGenerator,
  WORKER_LEASE_PREFIX,
} from '@im/core';
import {
  ChatroomDirectoryClient,
  GroupDirectoryClient,
  portOf,
  type Registry,
  readiness,
  type ServiceParts,
  StorageClient,
  serveMessage,
} from '@im/rpc';
import { registerFanoutMetrics } from './fanout-metrics.js';
import { instrumentBus, instrumentMessageApi } from './metrics.js';

export interface MessageServiceOptions {
  /** Listen host of the gRPC server; default 0.0.0.0 (tests: 127.0.0.1). */
  host?: string;
  /** Redis key prefix of the routes (tests: a unique one); default `<config.redisPrefix>routes:`. */
  keyPrefix?: string;
  /** Kafka topic prefix (tests: a unique one); default config.kafkaTopicPrefix. */
  topicPrefix?: string;
}

/**
 * The message service: MessageService over the storage service (gRPC), routes in Redis and
 * deliveries through Kafka, served over gRPC as im.internal.MessageService for the edges.
 *
 * Uid worker id: IM_WORKER_ID when set, else leased from Redis (core uid-lease.redis.ts) and
 * given back on close; while the lease is not held, sends fail with UNAVAILABLE.
 *
 * Groups and the chatroom directory are read from the storage service (SQL, no cache: a member
 * change applies to the next message); who is in a chatroom, per edge node, is in Redis
 * (RedisChatroomRegistry), so every replica sees the same rooms. Idle rooms are evicted by a sweep
 * in every replica (the delete is idempotent).
 */
export async function startMessageService(
  config: Config,
  logger: Logger,
  registry: Registry,
  opts: MessageServiceOptions = {},
): Promise<ServiceParts> {
  // First, so a cluster without a free worker id (or without Redis) fails before serving anything.
  const lease = config.message.leaseWorkerId
    ? await RedisWorkerLease.acquire({
        url: config.redisUrl,
        prefix: `${config.redisPrefix}${WORKER_LEASE_PREFIX}`,
        logger,
      })
    : null;
  const uid: UidGenerator = lease ? new LeasedUid(lease) : new SnowflakeUid(config.message.workerId);
  logger.info(
    { workerId: lease?.workerId ?? config.message.workerId, leased: lease !== null },
    'uid worker id',
  );
  const store = new StorageClient(config.grpc.storageAddr, {
    deadlineMs: config.grpc.deadlineMs,
    appends: {
      lanes: config.grpc.streams,
      maxInFlight: config.grpc.maxInFlight,
      lingerMs: config.grpc.lingerMs,
    },
  });
  const routes = new RedisRouteStore({
    url: config.redisUrl,
    ttlMs: config.routes.ttlMs,
    prefix: opts.keyPrefix ?? `${config.redisPrefix}routes:`,
  });
  const bus = new KafkaBus({
    brokers: config.kafkaBrokers,
    clientId: 'im-message',
    topicPrefix: opts.topicPrefix ?? config.kafkaTopicPrefix,
  });
  const rpcOpts = { deadlineMs: config.grpc.deadlineMs };
  const groups = new GroupDirectoryClient(config.grpc.storageAddr, rpcOpts);
  const chatroomDirectory = new ChatroomDirectoryClient(config.grpc.storageAddr, rpcOpts);
  const chatroomRegistry = new RedisChatroomRegistry({
    url: config.redisUrl,
    ttlMs: config.routes.ttlMs,
    prefix: opts.keyPrefix
      ? `${opts.keyPrefix}${CHATROOM_KEY_PREFIX}`
      : `${config.redisPrefix}${CHATROOM_KEY_PREFIX}`,
  });
  const chatrooms = new ChatroomService({
    directory: chatroomDirectory,
    registry: chatroomRegistry,
    idleEvictMs: config.chatroom.idleEvictMs,
    logger,
  });
  const service = new MessageService({
    decodeLimits: decodeLimits(config.edge),
    store,
    routes,
    bus: instrumentBus(bus, registry),
    uid,
    groups,
    chatrooms,
    config: config.message,
    logger,
  });
  registerFanoutMetrics(registry, () => service.fanoutStats());
  chatrooms.startEviction();
  // After the server finished its calls: hand queued fan-out to the bus, then close the backends.
  const close = async () => {
    await service.close();
    await Promise.allSettled([
      store.close(),
      groups.close(),
      chatroomDirectory.close(),
      chatroomRegistry.close(),
      routes.close(),
      bus.close(),
      lease?.release(),
    ]);
  };
  try {
    const server = await serveMessage(instrumentMessageApi(service, registry), {
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
