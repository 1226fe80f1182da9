import { MemoryMessageStore } from '@im/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RpcServer, StorageClient, serveStorage } from '../src/index.js';
import { ALL_BYTES, content, stored, U64_MAX } from './helpers.js';

describe('StorageClient ↔ serveStorage(MemoryMessageStore): uint64 and bytes at their extremes', () => {
  let server: RpcServer;
  let store: StorageClient;

  beforeAll(async () => {
    server = await serveStorage(new MemoryMessageStore(), { host: '127.0.0.1', port: 0 });
    store = new StorageClient(`127.0.0.1:${server.port}`, { deadlineMs: 2_000 });
  });

  afterAll(async () => {
    await store.close();
    await server.close();
  });

  const big = stored({
    uid: U64_MAX,
    messageId: U64_MAX,
    from: 'alice',
    fromDevice: 'dev-ü',
    to: 'g1',
    conversation: { type: 1, target: 'g1' },
    content: content({ data: ALL_BYTES, mentionedType: 1, mentionedTargets: ['bob'], msgLength: 0xffffffff }),
    serverTime: Number.MAX_SAFE_INTEGER,
    e2e: true,
  });

  it('append, get, pull, history and head carry every field exactly', async () => {
    const res = await store.append({ message: big, inboxUsers: ['bob', 'alice', '12', '__proto__'] });
    expect(res.duplicate).toBe(false);
    expect(res.uid).toBe(U64_MAX);
    expect(res.serverTime).toBe(Number.MAX_SAFE_INTEGER);
    expect(res.seqs).toStrictEqual(
      new Map([
        ['12', 1],
        ['__proto__', 1],
        ['alice', 1],
        ['bob', 1],
      ]),
    );
    expect(await store.get(U64_MAX)).toStrictEqual(big);
    expect(await store.get(U64_MAX - 1n)).toBeNull();

    const page = await store.pull('bob', 0, 10);
    expect(page).toStrictEqual({ entries: [{ seq: 1, message: big }], head: 1, hasMore: false });
    expect(await store.pull('bob', 1, 10)).toStrictEqual({ entries: [], head: 1, hasMore: false });

    expect(await store.history('bob', { type: 1, target: 'g1' }, 0n, 5)).toStrictEqual([
      { seq: 1, message: big },
    ]);
    // beforeUid is exclusive: nothing is older than the largest uid but the message itself is not included.
    expect(await store.history('bob', { type: 1, target: 'g1' }, U64_MAX, 5)).toStrictEqual([]);
    expect(await store.head('bob')).toBe(1);
    expect(await store.head('nobody')).toBe(0);
  });

  it('a duplicate append returns the original; wipe reports whether it wiped', async () => {
    const again = await store.append({ message: { ...big, uid: 5n, serverTime: 1 }, inboxUsers: ['bob'] });
    expect(again.duplicate).toBe(true);
    expect([again.uid, again.serverTime]).toStrictEqual([big.uid, big.serverTime]);
    expect(again.seqs).toStrictEqual(new Map([['alice', 1]]));

    expect(await store.wipe(U64_MAX)).toBe(true);
    expect(await store.wipe(U64_MAX)).toBe(false);
    const wiped = await store.get(U64_MAX);
    expect(wiped?.content.data).toStrictEqual(new Uint8Array(0));
    expect(wiped?.content.searchableContent).toBe('');
  });

  it('negative serverTime (int64) and an empty message survive', async () => {
    const odd = stored({
      uid: 7n,
      messageId: 0n,
      serverTime: Number.MIN_SAFE_INTEGER,
      content: content({ data: new Uint8Array(0) }),
    });
    const res = await store.append({ message: odd, inboxUsers: ['zed'] });
    expect([res.uid, res.serverTime]).toStrictEqual([7n, Number.MIN_SAFE_INTEGER]);
    expect(await store.get(7n)).toStrictEqual(odd);
  });
});
