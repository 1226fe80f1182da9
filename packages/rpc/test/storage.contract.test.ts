import { MemoryMessageStore, type MessageStore, SqliteMessageStore } from '@im/core';
import { messageStoreContract } from '../../core/test/contracts/message-store.contract.js';
import { type RpcServer, StorageClient, serveStorage } from '../src/index.js';

/** A StorageClient that owns the server it talks to: close() stops both (and the store behind). */
class ServedStore extends StorageClient {
  constructor(
    private readonly server: RpcServer,
    private readonly backing: MessageStore,
  ) {
    super(`127.0.0.1:${server.port}`, { deadlineMs: 5_000 });
  }

  override async close(): Promise<void> {
    await super.close();
    await this.server.close();
    await this.backing.close();
  }
}

async function remote(backing: MessageStore): Promise<MessageStore> {
  const server = await serveStorage(backing, { host: '127.0.0.1', port: 0 });
  return new ServedStore(server, backing);
}

// The remote store is the same store: the MessageStore contract, through gRPC.
messageStoreContract('StorageClient → gRPC → MemoryMessageStore', () => remote(new MemoryMessageStore()));
messageStoreContract('StorageClient → gRPC → SqliteMessageStore', async () =>
  remote(await SqliteMessageStore.open()),
);
