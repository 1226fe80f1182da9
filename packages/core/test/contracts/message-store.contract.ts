import { randomInt } from 'node:crypto';
import { ContentType } from '@im/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppendRequest, MessageStore, StoredMessage } from '../../src/ports.js';
import { SnowflakeUid } from '../../src/uid.js';
import { content, group, single, stored, unique } from '../support.js';

/**
 * The MessageStore contract (protocol.md §6 Inbox and seq, Send idempotency, Conversation history,
 * Recall). Every implementation — memory, SQLite, PostgreSQL — runs it. Ids are unique per test, so
 * it also runs against a shared database.
 */
export function messageStoreContract(name: string, factory: () => Promise<MessageStore>): void {
  describe(`MessageStore contract: ${name}`, () => {
    let store: MessageStore;
    // A random worker id keeps uids distinct from other suites writing to the same database.
    const uids = new SnowflakeUid(randomInt(1024));

    beforeAll(async () => {
      store = await factory();
    });
    afterAll(async () => {
      await store?.close();
    });

    /** a → b single-chat message. */
    const dm = (from: string, to: string, over: Partial<StoredMessage> = {}): AppendRequest => ({
      message: stored({ uid: uids.next(), from, to, conversation: single(to), ...over }),
      inboxUsers: [from, to],
    });

    it('numbers each inbox gap-free from 1, and head is the largest seq', async () => {
      const p = unique();
      const [a, b, c] = [`${p}-a`, `${p}-b`, `${p}-c`];
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await store.append(dm(a, b)));
      results.push(await store.append(dm(a, c)));
      expect(results.map((r) => r.seqs.get(a))).toEqual([1, 2, 3, 4, 5]);
      expect(results.slice(0, 4).map((r) => r.seqs.get(b))).toEqual([1, 2, 3, 4]);
      expect(results[4]?.seqs.get(c)).toBe(1);
      expect(results.every((r) => !r.duplicate)).toBe(true);
      expect(await store.head(a)).toBe(5);
      expect(await store.head(b)).toBe(4);
      expect(await store.head(`${p}-never`)).toBe(0);
      // Many heads at once (the edges' head sync): the same answers, 0 for an empty inbox.
      expect(await store.heads([b, `${p}-never`, a])).toStrictEqual(
        new Map([
          [b, 4],
          [`${p}-never`, 0],
          [a, 5],
        ]),
      );
      expect(await store.heads([])).toStrictEqual(new Map());
      const page = await store.pull(a, 0, 100);
      expect(page.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(page.entries.map((e) => e.message.uid)).toEqual(results.map((r) => r.uid));
    });

    it('stores every field and returns it unchanged (get and pull)', async () => {
      const p = unique();
      const [a, b] = [`${p}-a`, `${p}-b`];
      const req = dm(a, b, {
        messageId: 2n ** 64n - 1n,
        fromDevice: 'phone-7',
        e2e: true,
        serverTime: 1_735_000_000_123,
        content: content({
          contentType: ContentType.IMAGE,
          searchableContent: 'ünïcode ✓',
          pushContent: '',
          data: new Uint8Array([0, 255, 0, 1]),
          mentionedType: 1,
          mentionedTargets: [b, 'x"y,z}'],
          mediaType: 3,
          msgLength: 4_000_000_000,
          remoteMediaUrl: 'https://cdn.example/i.png',
          localMediaPath: '/tmp/i.png',
        }),
      });
      await store.append(req);
      expect(await store.get(req.message.uid)).toEqual(req.message);
      const [entry] = (await store.pull(b, 0, 10)).entries;
      expect(entry?.message).toEqual(req.message);
      expect(await store.get(uids.next())).toBeNull();
    });

    it('is idempotent on (from, fromDevice, messageId): a resend returns the original', async () => {
      const p = unique();
      const [a, b] = [`${p}-a`, `${p}-b`];
      await store.append(dm(a, b));
      const first = await store.append(dm(a, b, { messageId: 42n, serverTime: 1000 }));
      const again = await store.append(
        dm(a, b, { messageId: 42n, serverTime: 2000, content: content({ searchableContent: 'other' }) }),
      );
      expect(again.duplicate).toBe(true);
      expect(again.uid).toBe(first.uid);
      expect(again.serverTime).toBe(1000);
      // The original is what stays stored.
      expect((await store.get(first.uid))?.content.searchableContent).toBe('hello');
      expect(again.seqs.get(a)).toBe(2);
      expect(await store.head(a)).toBe(2);
      expect(await store.head(b)).toBe(2);
      // Another device, or messageId 0 (no key), is a new message.
      const otherDevice = await store.append(dm(a, b, { messageId: 42n, fromDevice: 'dev-2' }));
      const noKey1 = await store.append(dm(a, b));
      const noKey2 = await store.append(dm(a, b));
      expect([otherDevice, noKey1, noKey2].map((r) => r.duplicate)).toEqual([false, false, false]);
      expect(await store.head(a)).toBe(5);
    });

    it('orders concurrent appends to overlapping inboxes the same way everywhere, gap-free', async () => {
      const p = unique();
      const users = Array.from({ length: 6 }, (_, i) => `${p}-u${i}`);
      const reqs: AppendRequest[] = [];
      for (let i = 0; i < 50; i++) {
        const from = users[i % users.length] as string;
        const others = users.filter((u) => u !== from && randomInt(2) === 1);
        reqs.push({
          message: stored({
            uid: uids.next(),
            from,
            conversation: group(`${p}-g`),
            messageId: BigInt(i + 1),
          }),
          inboxUsers: [from, ...others],
        });
      }
      // Five resends of earlier keys, raced with the rest.
      const resends = [3, 10, 17, 30, 44].map((i) => {
        const orig = reqs[i] as AppendRequest;
        return { ...orig, message: { ...orig.message, uid: uids.next() } };
      });
      const results = await Promise.all([...reqs, ...resends].map((r) => store.append(r)));
      expect(results.filter((r) => r.duplicate)).toHaveLength(5);
      for (const [k, i] of [3, 10, 17, 30, 44].entries()) {
        expect(results[50 + k]?.uid).toBe(reqs[i]?.message.uid);
        expect(results[50 + k]?.seqs.get(reqs[i]?.message.from as string)).toBe(
          results[i]?.seqs.get(reqs[i]?.message.from as string),
        );
      }

      const order = new Map<string, bigint[]>();
      for (const u of users) {
        const expected = reqs.filter((r) => r.inboxUsers.includes(u)).length;
        const page = await store.pull(u, 0, 500);
        expect(page.entries.map((e) => e.seq)).toEqual(Array.from({ length: expected }, (_, i) => i + 1));
        expect(page.head).toBe(expected);
        const got = page.entries.map((e) => e.message.uid);
        expect(new Set(got).size).toBe(got.length);
        order.set(u, got);
      }
      // Any two messages shared by two inboxes are in the same relative order in both.
      for (const u of users) {
        for (const v of users) {
          const inV = new Set(order.get(v));
          const common = (order.get(u) ?? []).filter((x) => inV.has(x));
          const inUOrder = (order.get(v) ?? []).filter((x) => common.includes(x));
          expect(inUOrder).toEqual(common);
        }
      }
    });

    it('pulls seq > since, at most limit, with hasMore and head', async () => {
      const p = unique();
      const [a, b] = [`${p}-a`, `${p}-b`];
      for (let i = 0; i < 7; i++) await store.append(dm(a, b));
      const first = await store.pull(b, 0, 3);
      expect(first.entries.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(first).toMatchObject({ head: 7, hasMore: true });
      const middle = await store.pull(b, 3, 3);
      expect(middle.entries.map((e) => e.seq)).toEqual([4, 5, 6]);
      expect(middle.hasMore).toBe(true);
      const last = await store.pull(b, 6, 3);
      expect(last.entries.map((e) => e.seq)).toEqual([7]);
      expect(last).toMatchObject({ head: 7, hasMore: false });
      const none = await store.pull(b, 7, 3);
      expect(none).toEqual({ entries: [], head: 7, hasMore: false });
      expect(await store.pull(`${p}-empty`, 0, 10)).toEqual({ entries: [], head: 0, hasMore: false });
    });

    it('with maxBytes, a page ends at the first entry whose running content bytes pass it (protocol.md §1)', async () => {
      const p = unique();
      const [a, b] = [`${p}-a`, `${p}-b`];
      // Sizes dominated by data, so every store's lower bound (store/inbox.ts contentBytes) agrees.
      const big = (n: number) => dm(a, b, { content: content({ data: new Uint8Array(n) }) });
      for (const n of [1000, 1000, 1000, 1000, 1000, 5000, 1000]) await store.append(big(n));
      const pulled = await store.pull(b, 0, 100, 2500);
      // 1000 + 1000 (+ names) fit; the third passes 2500: it ends the page.
      expect(pulled.entries.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(pulled).toMatchObject({ head: 7, hasMore: true });
      // One entry at least, even when it alone is over.
      expect((await store.pull(b, 5, 100, 100)).entries.map((e) => e.seq)).toEqual([6]);
      // Within the budget, limit and hasMore as without one.
      expect(await store.pull(b, 4, 2, 1_000_000)).toMatchObject({ hasMore: true });
      expect((await store.pull(b, 0, 100, 1_000_000)).entries).toHaveLength(7);
      const history = await store.history(b, single(a), 0n, 100, 2500);
      expect(history.map((e) => e.seq)).toEqual([7, 6]);
      expect((await store.history(b, single(a), 0n, 100, 1_000_000)).map((e) => e.seq)).toEqual([
        7, 6, 5, 4, 3, 2, 1,
      ]);
    });

    it('returns a conversation newest first, paged by beforeUid, from each side', async () => {
      const p = unique();
      const [a, b, c] = [`${p}-a`, `${p}-b`, `${p}-c`];
      const ab: bigint[] = [];
      for (let i = 0; i < 5; i++) {
        // Both directions of the a↔b chat belong to one conversation on each side.
        const r = i % 2 === 0 ? dm(a, b) : dm(b, a);
        ab.push((await store.append(r)).uid);
        await store.append(dm(a, c));
      }
      const newestFirst = [...ab].reverse();
      const page1 = await store.history(a, single(b), 0n, 3);
      expect(page1.map((e) => e.message.uid)).toEqual(newestFirst.slice(0, 3));
      const page2 = await store.history(a, single(b), page1[2]?.message.uid as bigint, 3);
      expect(page2.map((e) => e.message.uid)).toEqual(newestFirst.slice(3));
      // b sees the same conversation under peer a, with b's own seqs.
      const fromB = await store.history(b, single(a), 0n, 10);
      expect(fromB.map((e) => e.message.uid)).toEqual(newestFirst);
      expect(fromB.map((e) => e.seq)).toEqual([5, 4, 3, 2, 1]);
      // Delivered as sent: the recipient's copy keeps the sender's addressing.
      expect(fromB[4]?.message.conversation).toEqual(single(b));
      expect(fromB[4]?.message.from).toBe(a);
      expect((await store.history(c, single(a), 0n, 10)).length).toBe(5);
      expect(await store.history(c, single(b), 0n, 10)).toEqual([]);
    });

    it('returns group history as each member received it', async () => {
      const p = unique();
      const [a, b, c, g] = [`${p}-a`, `${p}-b`, `${p}-c`, `${p}-g`];
      const msg = (from: string, inboxUsers: string[]) => ({
        message: stored({ uid: uids.next(), from, conversation: group(g) }),
        inboxUsers,
      });
      const m1 = await store.append(msg(a, [a, b, c]));
      const m2 = await store.append(msg(b, [a, b])); // c was removed from the group
      expect((await store.history(c, group(g), 0n, 10)).map((e) => e.message.uid)).toEqual([m1.uid]);
      expect((await store.history(a, group(g), 0n, 10)).map((e) => e.message.uid)).toEqual([m2.uid, m1.uid]);
    });

    it('wipes a recalled message once', async () => {
      const p = unique();
      const [a, b] = [`${p}-a`, `${p}-b`];
      const r = await store.append(
        dm(a, b, {
          content: content({ mentionedType: 1, mentionedTargets: [b], remoteMediaUrl: 'https://x' }),
        }),
      );
      expect(await store.wipe(r.uid)).toBe(true);
      expect(await store.wipe(r.uid)).toBe(false);
      expect(await store.wipe(uids.next())).toBe(false);
      const got = await store.get(r.uid);
      expect(got?.content).toMatchObject({
        contentType: ContentType.RECALL,
        searchableContent: '',
        pushContent: '',
        data: new Uint8Array(0),
        remoteMediaUrl: '',
      });
      expect(got?.from).toBe(a);
      const [entry] = (await store.pull(b, 0, 10)).entries;
      expect(entry?.message.content.contentType).toBe(ContentType.RECALL);
      expect(entry?.message.content.data).toEqual(new Uint8Array(0));
      expect(await store.head(b)).toBe(1);
    });
  });
}
