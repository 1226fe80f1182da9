import { type Config, type Logger, openPgStore, type PgStoreOptions } from '@im/core';
import { portOf, type Registry, readiness, type ServiceParts, serveStorage } from '@im/rpc';

export interface StorageServiceOptions {
  /** Listen host of the gRPC server; default 0.0.0.0 (tests: 127.0.0.1). */
  host?: string;
  /** Extra store options (tests: a schema of their own). */
  store?: PgStoreOptions;
}

/**
 * The storage service: the MessageStore port on PostgreSQL (migrated on open), served over gRPC
 * as im.internal.StorageService for the message service.
 */
export async function startStorageService(
  config: Config,
  logger: Logger,
  registry: Registry,
  opts: StorageServiceOptions = {},
): Promise<ServiceParts> {
  const store = await openPgStore(config.databaseUrl, opts.store);
  try {
    const server = await serveStorage(store, {
      host: opts.host,
      port: portOf(config.grpc.storageAddr),
      registry,
      logger,
    });
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
