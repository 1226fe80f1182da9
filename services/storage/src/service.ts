import {
  type Config,
  type Logger,
  openPgStore,
  type PgStoreOptions,
  SqlChatroomDirectory,
  SqlGroupDirectory,
} from '@im/core';
import { loadGrpcTls, portOf, type Registry, readiness, type ServiceParts, serveStorage } from '@im/rpc';
import { createStorageMetrics } from './metrics.js';

export interface StorageServiceOptions {
  /** Listen host of the gRPC server; default 0.0.0.0 (tests: 127.0.0.1). */
  host?: string;
  /** Extra store options (tests: a schema of their own; default schema config.databaseSchema). */
  store?: PgStoreOptions;
}

/**
 * The storage service: the MessageStore port on PostgreSQL (migrated on open), with the group and
 * chatroom directories of the same database, served over gRPC as im.internal.StorageService for
 * the message service and the admin API.
 */
export async function startStorageService(
  config: Config,
  logger: Logger,
  registry: Registry,
  opts: StorageServiceOptions = {},
): Promise<ServiceParts> {
  const metrics = createStorageMetrics(registry);
  const store = await openPgStore(config.databaseUrl, {
    ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
    onBatch: metrics.onBatch,
    ...opts.store,
  });
  try {
    // Groups and chatrooms live in the same database (migration 2), served on the same port.
    const directories = {
      groups: new SqlGroupDirectory(store.driver),
      chatrooms: new SqlChatroomDirectory(store.driver),
    };
    const server = await serveStorage(
      metrics.instrument(store),
      // docs/security.md Internal traffic: only callers with a certificate of the CA, when set.
      {
        host: opts.host,
        port: portOf(config.grpc.storageAddr),
        registry,
        logger,
        tls: loadGrpcTls(config.grpc),
      },
      directories,
    );
    return {
      server,
      // A real query: the pool can reach PostgreSQL.
      ready: readiness({ postgres: () => store.head('') }, logger),
      close: () => store.close(),
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
