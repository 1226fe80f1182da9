import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Status } from '@im/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppendRequest } from '../src/ports.js';
import { SqliteMessageStore } from '../src/store/sqlite/store.sqlite.js';
import { SnowflakeUid } from '../src/uid.js';
import { messageStoreContract } from './contracts/message-store.contract.js';
import { single, stored, unique } from './support.js';

messageStoreContract('sqlite (in memory)', () => SqliteMessageStore.open());

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'im-sqlite-'));
  dirs.push(d);
  return d;
};

messageStoreContract('sqlite (file, WAL)', async () =>
  SqliteMessageStore.open({ path: join(await tempDir(), 'im.db') }),
);

const uids = new SnowflakeUid(9);
const dm = (from: string, to: string, messageId = 0n): AppendRequest => ({
  message: stored({ uid: uids.next(), from, to, conversation: single(to), messageId }),
  inboxUsers: [from, to],
});

describe('SqliteMessageStore', () => {
  let store: SqliteMessageStore;
  const batches: number[] = [];
  beforeAll(async () => {
    store = await SqliteMessageStore.open({
      path: join(await tempDir(), 'im.db'),
      onBatch: (b) => batches.push(b.size),
    });
  });
  afterAll(() => store.close());

  it('commits every append of one event-loop turn in one transaction', async () => {
    const [a, b] = [unique('a'), unique('b')];
    batches.length = 0;
    const results = await Promise.all(Array.from({ length: 300 }, () => store.append(dm(a, b))));
    expect(batches).toEqual([300]);
    expect(results.map((r) => r.seqs.get(b))).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });

  it('resolves a duplicate queued in the same batch to the original', async () => {
    const [a, b] = [unique('a'), unique('b')];
    const first = dm(a, b, 9n);
    const resend = { ...first, message: { ...first.message, uid: uids.next() } };
    const [r1, r2] = await Promise.all([store.append(first), store.append(resend)]);
    expect(r1?.duplicate).toBe(false);
    expect(r2).toMatchObject({ duplicate: true, uid: first.message.uid });
    expect(r2?.seqs.get(a)).toBe(r1?.seqs.get(a));
    expect(await store.head(b)).toBe(1);
  });

  it('fails a bad append alone, leaving no seq taken, when it shares a batch with good ones', async () => {
    const [a, b, c] = [unique('a'), unique('b'), unique('c')];
    const good1 = dm(a, b);
    const bad = dm(a, c);
    const good2 = dm(a, c);
    bad.message.uid = good1.message.uid; // uid reuse violates the primary key
    batches.length = 0;
    const results = await Promise.allSettled([store.append(good1), store.append(bad), store.append(good2)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(batches).toEqual([3]);
    expect((await store.pull(a, 0, 10)).entries.map((e) => e.seq)).toEqual([1, 2]);
    expect((await store.pull(c, 0, 10)).entries.map((e) => [e.seq, e.message.uid])).toEqual([
      [1, good2.message.uid],
    ]);
  });

  it('stores text with NUL characters as sent (protobuf strings may hold them)', async () => {
    const r = dm(unique('nul'), unique('peer'));
    r.message.content = { ...r.message.content, searchableContent: 'a\u0000b' };
    await store.append(r);
    expect((await store.get(r.message.uid))?.content.searchableContent).toBe('a\u0000b');
    expect(await store.history(unique('u'), single('x\u0000'), 0n, 10)).toEqual([]);
  });

  it('treats a history bound at or above 2^63 as no bound (no uid reaches it)', async () => {
    const [a, b] = [unique('a'), unique('b')];
    const r = await store.append(dm(a, b));
    const page = await store.history(a, single(b), 2n ** 64n - 1n, 10);
    expect(page.map((e) => e.message.uid)).toEqual([r.uid]);
  });

  it('keeps messages, heads and idempotency keys across a reopen', async () => {
    const path = join(await tempDir(), 'im.db');
    const first = await SqliteMessageStore.open({ path });
    const r = await first.append(dm('a', 'b', 5n));
    await first.append(dm('a', 'c'));
    await first.close();
    await first.close();
    const second = await SqliteMessageStore.open({ path });
    try {
      expect((await second.pull('b', 0, 10)).entries.map((e) => e.message.uid)).toEqual([r.uid]);
      expect((await second.append(dm('a', 'b', 5n))).duplicate).toBe(true);
      expect((await second.append(dm('a', 'b'))).seqs.get('a')).toBe(3);
    } finally {
      await second.close();
    }
  });

  it('rejects appends after close', async () => {
    const s = await SqliteMessageStore.open();
    await s.close();
    await expect(s.append(dm('a', 'b'))).rejects.toThrow(/closed/);
    await expect(s.head('a')).rejects.toThrow(/closed/);
  });

  it('commits what is queued when closed before the flush ran', async () => {
    const path = join(await tempDir(), 'im.db');
    const s = await SqliteMessageStore.open({ path });
    const pending = s.append(dm('x', 'y'));
    await s.close();
    expect((await pending).seqs.get('y')).toBe(1);
    const again = await SqliteMessageStore.open({ path });
    expect(await again.head('y')).toBe(1);
    await again.close();
  });

  it('answers UNAVAILABLE, and keeps running, when a request meets a corrupt page', async () => {
    const path = join(await tempDir(), 'im.db');
    const first = await SqliteMessageStore.open({ path });
    await Promise.all(Array.from({ length: 300 }, () => first.append(dm('ca', 'cb'))));
    await first.close();
    // Page 1 (header and schema) stays; every page after it becomes garbage.
    const fh = await open(path, 'r+');
    const { size } = await fh.stat();
    await fh.write(Buffer.alloc(size - 4096, 0xa5), 0, size - 4096, 4096);
    await fh.close();
    const store = await SqliteMessageStore.open({ path });
    try {
      const unavailable = { status: Status.UNAVAILABLE, message: expect.stringMatching(/corrupt/) };
      await expect(store.pull('cb', 0, 100)).rejects.toMatchObject(unavailable);
      await expect(store.append(dm('ca', 'cb'))).rejects.toMatchObject(unavailable);
      await expect(store.head('cb')).rejects.toMatchObject(unavailable);
    } finally {
      await store.close();
    }
  });
});
