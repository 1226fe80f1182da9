import { type Config, type Logger, openPgStore } from '@im/core';
import type { Registry } from '@im/rpc';
import { portOf, readiness, type ServiceParts, serveStorage } from '@im/rpc';

/**
 * The storage service: the MessageStore port on PostgreSQL (migrated on open), served over gRPC
 * as im.internal.StorageService for the message service.
 */
export async function startStorageService(
  config: Config,
  logger: Logger,
  registry: Registry,
): Promise<ServiceParts> {
  const store = await openPgStore(config.databaseUrl);
  try {
    const server = await serveStorage(store, { port: portOf(config.grpc.storageAddr), registry, logger });
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
