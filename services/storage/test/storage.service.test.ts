import { loadConfig, type MessageStore, silentLogger } from '@im/core';
import { createRegistry, type ServiceParts, StorageClient } from '@im/rpc';
import { expect, it } from 'vitest';
import { messageStoreContract } from '../../../packages/core/test/contracts/message-store.contract.js';
import { describeInfra, requireInfra, uniqueSchema } from '../../../test/support/infra.js';
import { startStorageService } from '../src/service.js';

/** The storage service on PostgreSQL (a schema of its own), and a client that closes both. */
async function storageService(): Promise<{ parts: ServiceParts; client: StorageClient }> {
  const { databaseUrl } = requireInfra();
  const config = loadConfig({}, { databaseUrl, grpc: { storageAddr: '127.0.0.1:0' } });
  const parts = await startStorageService(config, silentLogger(), createRegistry(), {
    host: '127.0.0.1',
    store: { schema: uniqueSchema('storage_svc') },
  });
  const client = new StorageClient(`127.0.0.1:${parts.server.port}`, { deadlineMs: 5_000 });
  const close = client.close.bind(client);
  client.close = async () => {
    await close();
    await parts.server.close();
    await parts.close();
  };
  return { parts, client };
}

describeInfra('storage service: PostgreSQL behind gRPC', () => {
  // The cluster's store path (message service → gRPC → storage service → PostgreSQL) is the same store.
  messageStoreContract('StorageClient → storage service → PostgreSQL', async (): Promise<MessageStore> => {
    return (await storageService()).client;
  });

  it('is ready while PostgreSQL answers', async () => {
    const { parts, client } = await storageService();
    expect(await parts.ready()).toBe(true);
    expect(await client.head('nobody')).toBe(0);
    await client.close();
  });
});
