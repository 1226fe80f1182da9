/**
 * The group and chatroom directories through the storage service's gRPC (what the message service
 * and the cluster's admin API use): the same contract suites as the stores behind them, plus the
 * UNSUPPORTED answer of a storage server that serves no directory.
 */
import {
  MemoryChatroomDirectory,
  MemoryGroupDirectory,
  MemoryMessageStore,
  SqliteChatroomDirectory,
  SqliteGroupDirectory,
  SqliteMessageStore,
} from '@im/core';
import { ImError, Status } from '@im/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { chatroomDirectoryContract } from '../../core/test/contracts/chatroom-directory.contract.js';
import { groupDirectoryContract } from '../../core/test/contracts/group-directory.contract.js';
import { ChatroomDirectoryClient, GroupDirectoryClient, type RpcServer, serveStorage } from '../src/index.js';

const servers: RpcServer[] = [];
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers) await c();
  await Promise.all(servers.map((s) => s.close()));
});

async function served(dirs: Parameters<typeof serveStorage>[2]): Promise<string> {
  const server = await serveStorage(new MemoryMessageStore(), { host: '127.0.0.1', port: 0 }, dirs);
  servers.push(server);
  return `127.0.0.1:${server.port}`;
}

function clients(address: string) {
  const groups = new GroupDirectoryClient(address, { deadlineMs: 5_000 });
  const chatrooms = new ChatroomDirectoryClient(address, { deadlineMs: 5_000 });
  closers.push(
    () => groups.close(),
    () => chatrooms.close(),
  );
  return { groups, chatrooms };
}

const memory = served({ groups: new MemoryGroupDirectory(), chatrooms: new MemoryChatroomDirectory() });
groupDirectoryContract('GroupDirectoryClient → gRPC → memory', async () => clients(await memory).groups);
chatroomDirectoryContract(
  'ChatroomDirectoryClient → gRPC → memory',
  async () => clients(await memory).chatrooms,
);

const sql = (async () => {
  const store = await SqliteMessageStore.open();
  closers.push(() => store.close());
  return served({
    groups: new SqliteGroupDirectory(store.db),
    chatrooms: new SqliteChatroomDirectory(store.db),
  });
})();
groupDirectoryContract('GroupDirectoryClient → gRPC → SQLite', async () => clients(await sql).groups);
chatroomDirectoryContract(
  'ChatroomDirectoryClient → gRPC → SQLite',
  async () => clients(await sql).chatrooms,
);

describe('a storage server without directories', () => {
  it('answers the directory rpcs UNSUPPORTED', async () => {
    const { groups, chatrooms } = clients(await served(undefined));
    for (const call of [() => groups.members('g'), () => chatrooms.getChatroom('r')]) {
      const err = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ImError);
      expect((err as ImError).status).toBe(Status.UNSUPPORTED);
    }
  });
});
