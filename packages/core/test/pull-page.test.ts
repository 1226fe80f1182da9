/**
 * protocol.md §1 Bounded responses and §6 Limits and abuse, in the message service: a PullResponse
 * is never larger than the maximum body (cut with hasMore, at least one message); an MS that could
 * never be pulled is BAD_REQUEST "message too large"; chatroom and TYPING bodies over the push
 * limit are refused; TYPING is rate-limited per conversation. And the memory of one pull: the
 * store hands the service about one response's worth, not limit × message size.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentType, codec, type ImError, type PullRequest, Status } from '@im/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { describeInfra, requireInfra, uniqueSchema } from '../../../test/support/infra.js';
import { MemoryChatroomDirectory } from '../src/chatrooms/directory.memory.js';
import { MemoryChatroomRegistry } from '../src/chatrooms/registry.memory.js';
import { ManualClock } from '../src/clock.js';
import { silentLogger } from '../src/log.js';
import { ChatroomService } from '../src/message/chatrooms.js';
import { PULL_MAX_LIMIT } from '../src/message/message.service.js';
import type { InboxEntry, MessageStore, PullPage } from '../src/ports.js';
import { contentBytes } from '../src/store/inbox.js';
import { SqliteMessageStore } from '../src/store/sqlite/store.sqlite.js';
import { MemoryMessageStore } from '../src/store/store.memory.js';
import { openPgStore } from '../src/store/store.pg.js';
import { SnowflakeUid } from '../src/uid.js';
import { caller, messageHarness, msg } from './harness.js';
import { content, single, stored, unique } from './support.js';

const MAX_BODY = 4096;

async function rejection(p: Promise<unknown>): Promise<ImError> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as ImError,
  );
}

const bytes = (n: number) => content({ data: new Uint8Array(n), searchableContent: '', pushContent: '' });

describe('pull pages within the maximum body (protocol.md §1)', () => {
  it('an inbox pull is cut where the next message would not fit, with hasMore; the next pull goes on', async () => {
    const { service } = await messageHarness({ maxBodyBytes: MAX_BODY });
    const [alice, bob] = [unique('alice'), unique('bob')];
    for (let i = 0; i < 5; i++) {
      await service.send(caller(alice), msg({ conversation: single(bob), messageContent: bytes(1500) }), {
        e2e: false,
      });
    }
    const first = await service.pull(caller(bob), { since: 0, limit: 100 } as PullRequest);
    expect(first.messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(first.hasMore).toBe(true);
    expect(codec.PullResponse.encode(first).length).toBeLessThanOrEqual(MAX_BODY);
    const rest: number[] = [];
    for (let since = 2, more = true; more; ) {
      const page = await service.pull(caller(bob), { since, limit: 100 } as PullRequest);
      expect(codec.PullResponse.encode(page).length).toBeLessThanOrEqual(MAX_BODY);
      expect(page.messages.length).toBeGreaterThan(0);
      rest.push(...page.messages.map((m) => m.seq));
      since = page.messages.at(-1)?.seq ?? since;
      more = page.hasMore;
    }
    expect(rest).toEqual([3, 4, 5]);
  });

  it('history pages the same way, newest first', async () => {
    const { service } = await messageHarness({ maxBodyBytes: MAX_BODY });
    const [alice, bob] = [unique('alice'), unique('bob')];
    for (let i = 0; i < 3; i++) {
      await service.send(caller(alice), msg({ conversation: single(bob), messageContent: bytes(1500) }), {
        e2e: false,
      });
    }
    const req = { conversation: single(alice), limit: 10, beforeUid: 0n } as PullRequest;
    const page = await service.pull(caller(bob), req);
    expect(page.messages.map((m) => m.seq)).toEqual([3, 2]);
    expect(page.hasMore).toBe(true);
    expect(codec.PullResponse.encode(page).length).toBeLessThanOrEqual(MAX_BODY);
    const older = await service.pull(caller(bob), { ...req, beforeUid: page.messages[1]?.messageUid ?? 0n });
    expect([older.messages.map((m) => m.seq), older.hasMore]).toEqual([[1], false]);
  });

  it('an MS as large as can ever be pulled is stored; one byte more is BAD_REQUEST "message too large", nothing stored', async () => {
    const { service, store } = await messageHarness({ maxBodyBytes: MAX_BODY });
    const [alice, bob] = [unique('alice'), unique('bob')];
    const send = (n: number) =>
      service.send(caller(alice), msg({ conversation: single(bob), messageContent: bytes(n) }), {
        e2e: false,
      });
    let n = MAX_BODY;
    let err: ImError | undefined;
    for (; n > 0; n--) {
      err = await send(n).then(
        () => undefined,
        (e: ImError) => e,
      );
      if (!err) break;
      expect(err.status).toBe(Status.BAD_REQUEST);
      expect(err.message).toMatch(/^message too large/);
    }
    // The largest that is stored makes a PullResponse at the maximum body within a few bytes.
    expect(n).toBeGreaterThan(MAX_BODY - 150);
    expect(await store.head(bob)).toBe(1);
    const page = await service.pull(caller(bob), { since: 0, limit: 1 } as PullRequest);
    const size = codec.PullResponse.encode({ ...page, head: Number.MAX_SAFE_INTEGER, hasMore: true }).length;
    expect(size).toBeLessThanOrEqual(MAX_BODY);
    expect(size).toBeGreaterThan(MAX_BODY - 12);
  });
});

describe('push-only messages and TYPING (protocol.md §6 Limits and abuse)', () => {
  it('a TYPING or chatroom body over the push limit is BAD_REQUEST: there is no inbox to pull it from', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const directory = new MemoryChatroomDirectory();
    const chatrooms = new ChatroomService({
      directory,
      registry: new MemoryChatroomRegistry({ ttlMs: 60_000, clock }),
      idleEvictMs: 60_000,
      clock,
      logger: silentLogger(),
    });
    const h = await messageHarness({ chatrooms, clock });
    const limit = h.config.pushMaxBodyBytes;
    const room = unique('room');
    await directory.createChatroom(room, clock.now());
    const a = await h.online(unique('alice'));
    await h.service.joinChatroom(a, room);
    const typing = (n: number) =>
      msg({
        conversation: single(unique('bob')),
        messageContent: { ...bytes(n), contentType: ContentType.TYPING },
      });
    const inRoom = (n: number) => msg({ conversation: { type: 2, target: room }, messageContent: bytes(n) });
    for (const body of [typing(limit), inRoom(limit)]) {
      const err = await rejection(h.service.send(a, body, { e2e: false }));
      expect([err.status, err.message]).toEqual([Status.BAD_REQUEST, expect.stringMatching(/push limit/)]);
    }
    // Well under the limit: pushed as usual.
    await h.service.send(a, typing(limit - 200), { e2e: false });
    await h.service.send(a, inRoom(limit - 200), { e2e: false });
  });

  it('TYPING per (sender, conversation): the burst, then TOO_MANY_REQUESTS with retryAfterMs; others unaffected', async () => {
    const h = await messageHarness();
    const { typingPerSecond, typingBurst } = h.config;
    expect([typingPerSecond, typingBurst]).toEqual([1, 3]);
    const a = caller(unique('alice'));
    const [bob, carol] = [unique('bob'), unique('carol')];
    const typing = (to: string) =>
      h.service.send(
        a,
        msg({ conversation: single(to), messageContent: content({ contentType: ContentType.TYPING }) }),
        {
          e2e: false,
        },
      );
    for (let i = 0; i < typingBurst; i++) await typing(bob);
    const err = await rejection(typing(bob));
    expect([err.status, err.retryAfterMs]).toEqual([Status.TOO_MANY_REQUESTS, 1000]);
    await typing(carol); // another conversation has its own bucket
    await h.service.send(a, msg({ conversation: single(bob) }), { e2e: false }); // and text is not TYPING
    h.clock.advance(1000);
    await typing(bob);
  });
});

/** Counts the content bytes every pull / history hands to the service (what one pull holds in memory). */
function measured(store: MessageStore): MessageStore & { loaded: number[] } {
  const loaded: number[] = [];
  const sum = (entries: InboxEntry[]) => entries.reduce((n, e) => n + contentBytes(e.message), 0);
  return Object.assign(Object.create(store) as MessageStore, {
    loaded,
    async pull(userId: string, since: number, limit: number, maxBytes?: number): Promise<PullPage> {
      const page = await store.pull(userId, since, limit, maxBytes);
      loaded.push(sum(page.entries));
      return page;
    },
    async history(...args: Parameters<MessageStore['history']>): Promise<InboxEntry[]> {
      const entries = await store.history(...args);
      loaded.push(sum(entries));
      return entries;
    },
  });
}

/**
 * 500 messages near a 16 KiB maximum body, pulled with limit 500: the store hands over about one
 * response (the budget plus the one message that passes it), never the 500 (about 8 MB).
 */
function memoryBound(name: string, open: () => Promise<MessageStore>): void {
  it(`${name}: one pull of 500 near-limit messages loads one response's worth, not 500`, async () => {
    const maxBody = 16 * 1024;
    const base = await open();
    const store = measured(base);
    try {
      const { service } = await messageHarness({ store, maxBodyBytes: maxBody });
      const [alice, bob] = [unique('alice'), unique('bob')];
      const uids = new SnowflakeUid(7);
      for (let i = 0; i < 500; i++) {
        await base.append({
          message: stored({
            uid: uids.next(),
            from: alice,
            to: bob,
            conversation: single(bob),
            content: bytes(maxBody - 200),
          }),
          inboxUsers: [alice, bob],
        });
      }
      const page = await service.pull(caller(bob), { since: 0, limit: PULL_MAX_LIMIT } as PullRequest);
      const history = await service.pull(caller(bob), {
        conversation: single(alice),
        limit: PULL_MAX_LIMIT,
        beforeUid: 0n,
      } as PullRequest);
      for (const p of [page, history]) {
        expect(p.messages).toHaveLength(1);
        expect(p.hasMore).toBe(true);
        expect(codec.PullResponse.encode(p).length).toBeLessThanOrEqual(maxBody);
      }
      expect(store.loaded).toHaveLength(2);
      for (const n of store.loaded) expect(n).toBeLessThanOrEqual(2 * maxBody);
    } finally {
      await base.close();
    }
  });
}

describe('the memory of one pull is bounded by the maximum body (protocol.md §1)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  memoryBound('memory store', async () => new MemoryMessageStore());
  memoryBound('SQLite store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'im-pull-'));
    dirs.push(dir);
    return SqliteMessageStore.open({ path: join(dir, 'im.db') });
  });
  describeInfra('PostgreSQL', () => {
    memoryBound('PostgreSQL store', async () =>
      openPgStore(requireInfra().databaseUrl, { schema: uniqueSchema('pull') }),
    );
  });
});
