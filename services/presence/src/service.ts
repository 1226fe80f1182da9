import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type Config,
  KafkaBus,
  KafkaJanitor,
  type Logger,
  MemoryPublicKeyStore,
  PresenceService,
  RedisRouteStore,
} from '@im/core';
import { portOf, type Registry, readiness, type ServiceParts, servePresence } from '@im/rpc';

/**
 * The presence service: routes in Redis, kicks through Kafka, served over gRPC as
 * im.internal.PresenceService for the edges. It also runs the cluster's janitor of the Kafka
 * topics of gone edge nodes (one acts at a time, by a Redis lock; config.janitor).
 *
 * Follow-up: public keys live in this process's memory (MemoryPublicKeyStore), so they are lost on
 * restart and not shared between presence replicas; a Redis or SQL PublicKeyStore replaces it.
 */
export interface PresenceServiceOptions {
  /** Listen host of the gRPC server; default 0.0.0.0 (tests: 127.0.0.1). */
  host?: string;
  /** Redis key prefix of the routes (tests: a unique one); default `<config.redisPrefix>routes:`. */
  keyPrefix?: string;
  /** Kafka topic prefix (tests: a unique one); default config.kafkaTopicPrefix. */
  topicPrefix?: string;
}

export async function startPresenceService(
  config: Config,
  logger: Logger,
  registry: Registry,
  opts: PresenceServiceOptions = {},
): Promise<ServiceParts> {
  const routes = new RedisRouteStore({
    url: config.redisUrl,
    ttlMs: config.routes.ttlMs,
    prefix: opts.keyPrefix ?? `${config.redisPrefix}routes:`,
  });
  const bus = new KafkaBus({
    brokers: config.kafkaBrokers,
    clientId: 'im-presence',
    topicPrefix: opts.topicPrefix ?? config.kafkaTopicPrefix,
    // A kick is published inside LOGIN: with Kafka down it must give up before the edge's gRPC
    // deadline, so the login still succeeds (presence.service.ts logs the failed kick).
    publishTimeoutMs: Math.max(200, Math.floor(config.grpc.deadlineMs / 2)),
  });
  const keys = new MemoryPublicKeyStore();
  const service = new PresenceService({ routes, bus, keys, logger });
  let janitor: KafkaJanitor | null = null;
  if (config.janitor.intervalMs > 0) {
    const topicPrefix = opts.topicPrefix ?? config.kafkaTopicPrefix;
    janitor = new KafkaJanitor({
      brokers: config.kafkaBrokers,
      topicPrefix,
      redis: config.redisUrl,
      lockKey: `${config.redisPrefix}kafka-janitor:${topicPrefix}`,
      holder: config.nodeId || `presence-${hostname()}-${randomBytes(4).toString('hex')}`,
      graceMs: config.janitor.graceMs,
      minGraceMs: config.routes.ttlMs,
      intervalMs: config.janitor.intervalMs,
      logger,
    });
    janitor.start();
  }
  const close = async () => {
    await janitor?.stop();
    await Promise.allSettled([routes.close(), bus.close()]);
  };
  try {
    const server = await servePresence(service, {
      host: opts.host,
      port: portOf(config.grpc.presenceAddr),
      registry,
      logger,
    });
    return {
      server,
      // A real round trip to Redis (a lookup of a user nobody is). Kafka has no probe yet (KafkaBus).
      ready: readiness({ redis: () => routes.lookup(['\u0000readyz']) }, logger),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
