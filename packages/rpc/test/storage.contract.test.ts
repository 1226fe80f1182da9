import {
  MemoryMessageStore,
  type MessageStore,
  openPgStore,
  SnowflakeUid,
  SqliteMessageStore,
} from '@im/core';
import { Status } from '@im/protocol';
import { expect, it } from 'vitest';
import { describeInfra, requireInfra, uniqueSchema } from '../../../test/support/infra.js';
import { messageStoreContract } from '../../core/test/contracts/message-store.contract.js';
import { content, stored } from '../../core/test/support.js';
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

describeInfra(
  'StorageClient → gRPC → SqlMessageStore (PostgreSQL): one AppendBatch, one group commit',
  () => {
    it('appends of one turn travel together; a value the database refuses fails alone', async () => {
      const backing = await openPgStore(requireInfra().databaseUrl, { schema: uniqueSchema('batch') });
      const batches: number[] = [];
      const server = await serveStorage(backing, {
        host: '127.0.0.1',
        port: 0,
        onAppendBatch: (n) => batches.push(n),
      });
      const client = new StorageClient(`127.0.0.1:${server.port}`, { deadlineMs: 10_000 });
      try {
        const uid = new SnowflakeUid(9);
        const req = (text: string) => ({
          message: stored({ uid: uid.next(), from: 'a', content: content({ searchableContent: text }) }),
          inboxUsers: ['a', 'b'],
        });
        const results = await Promise.allSettled(
          [req('one'), req('bad\u0000nul'), req('three')].map((r) => client.append(r)),
        );
        expect(batches).toEqual([3]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ status: Status.BAD_REQUEST });
        // The good ones are numbered as if the bad one had never been sent.
        const seqs = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.seqs.get('b')] : []));
        expect(seqs).toEqual([1, 2]);
        expect(await client.head('b')).toBe(2);
      } finally {
        await client.close();
        await server.close();
        await backing.close();
      }
    });
  },
);
