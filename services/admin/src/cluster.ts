/**
 * The admin API as a cluster process: presence over gRPC (devices, kick, public keys), groups and
 * the chatroom directory over the storage service's gRPC, who is in a chatroom from the Redis
 * registry the message service writes (read: count; written only to drop a deleted room).
 */
import { CHATROOM_KEY_PREFIX, type Config, type Logger, RedisChatroomRegistry, signDevToken } from '@im/core';
import {
  ChatroomDirectoryClient,
  GroupDirectoryClient,
  loadGrpcTls,
  PresenceClient,
  readiness,
} from '@im/rpc';
import type { Registry } from 'prom-client';
import { chatroomAdmin } from './chatrooms.js';
import { type AdminServer, startAdminServer } from './server.js';

export interface ClusterAdminOptions {
  /** Redis key prefix of the chatroom registry (tests); default `<config.redisPrefix>rooms:`. */
  roomKeyPrefix?: string;
  /** The server's RSA public key (SPKI PEM) to publish; default none (404). */
  serverPublicKey?: () => string | null;
}

export interface ClusterAdmin {
  server: AdminServer;
  /** Stops the HTTP server, then closes the gRPC channels and Redis. Idempotent. */
  close(): Promise<void>;
}

export async function startClusterAdmin(
  config: Config,
  logger: Logger,
  registry: Registry,
  opts: ClusterAdminOptions = {},
): Promise<ClusterAdmin> {
  if (!config.admin.secret) throw new Error('IM_ADMIN_SECRET is required: the admin API is bearer-protected');
  // docs/security.md Internal traffic: mTLS to presence and storage when IM_GRPC_TLS_* are set.
  const rpc = { deadlineMs: config.grpc.deadlineMs, tls: loadGrpcTls(config.grpc) };
  const presence = new PresenceClient(config.grpc.presenceAddr, rpc);
  const groups = new GroupDirectoryClient(config.grpc.storageAddr, rpc);
  const directory = new ChatroomDirectoryClient(config.grpc.storageAddr, rpc);
  const rooms = new RedisChatroomRegistry({
    url: config.redisUrl,
    ttlMs: config.routes.ttlMs,
    prefix: opts.roomKeyPrefix ?? `${config.redisPrefix}${CHATROOM_KEY_PREFIX}`,
  });
  const closeBackends = () =>
    Promise.allSettled([presence.close(), groups.close(), directory.close(), rooms.close()]).then(() => {});

  const devTokens = config.admin.devTokens && config.auth.jwtSecret !== '';
  if (config.admin.devTokens && !devTokens) {
    logger.warn('development tokens are on but IM_JWT_SECRET is empty: POST /v1/tokens is off');
  }
  let server: AdminServer;
  try {
    server = await startAdminServer(
      {
        secret: config.admin.secret,
        presence,
        groups,
        chatrooms: chatroomAdmin(directory, rooms),
        issueToken: devTokens ? (u, ttl) => signDevToken(config.auth.jwtSecret, u, ttl) : null,
        serverPublicKey: opts.serverPublicKey,
        ready: readiness(
          {
            presence: () => presence.ready(config.grpc.deadlineMs),
            storage: () => groups.ready(config.grpc.deadlineMs),
            redis: () => rooms.count('\u0000readyz'),
          },
          logger,
        ),
        metrics: registry,
        logger,
      },
      { host: config.admin.host, port: config.admin.port },
    );
  } catch (err) {
    await closeBackends();
    throw err;
  }
  logger.info({ port: server.port, devTokens }, 'admin API listening');
  let closing: Promise<void> | undefined;
  return {
    server,
    close() {
      closing ??= (async () => {
        await server.close();
        await closeBackends();
      })();
      return closing;
    },
  };
}
