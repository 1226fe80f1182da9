import { ContentType, ConversationType, codec, ImError, Status } from '@im/protocol';
import { describe, expect, it } from 'vitest';
import type { Delivery, RouteStore } from '../src/ports.js';
import { uidFromBytes } from '../src/uid.js';
import { brokenBus, caller, delivered, messageHarness, msg } from './harness.js';
import { content, group, single } from './support.js';

const alice = caller('alice');
const noE2e = { e2e: false };

async function status(p: Promise<unknown>): Promise<number> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof ImError)) throw new Error(`expected an ImError, got ${String(e)}`);
  return e.status;
}

const kinds = (ds: Delivery[]) =>
  ds.map((d) => `${d.kind}:${d.kind === 'room' ? d.roomId : d.userId}@${d.nodeId}`).sort();

describe('MessageService.send: validation (protocol.md §6 Send)', () => {
  it('refuses a from that is not the caller', async () => {
    const { service } = await messageHarness();
    expect(await status(service.send(alice, msg({ from: 'mallory' }), noE2e))).toBe(Status.FORBIDDEN);
  });

  it('fills from from the session (empty or equal from is fine)', async () => {
    const { service, store } = await messageHarness();
    await service.send(alice, msg({ from: '' }), noE2e);
    await service.send(alice, msg({ from: 'alice' }), noE2e);
    const page = await store.pull('bob', 0, 10);
    expect(page.entries.map((e) => [e.message.from, e.message.fromDevice])).toEqual([
      ['alice', 'd1'],
      ['alice', 'd1'],
    ]);
  });

  it('refuses a missing conversation', async () => {
    const { service } = await messageHarness();
    expect(await status(service.send(alice, msg({ conversation: undefined }), noE2e))).toBe(
      Status.BAD_REQUEST,
    );
  });

  it('refuses an empty target', async () => {
    const { service } = await messageHarness();
    expect(await status(service.send(alice, msg({ conversation: single('') }), noE2e))).toBe(
      Status.BAD_REQUEST,
    );
  });

  it('refuses an unknown conversation type', async () => {
    const { service } = await messageHarness();
    const conversation = { type: 7, target: 'bob' };
    expect(await status(service.send(alice, msg({ conversation }), noE2e))).toBe(Status.BAD_REQUEST);
  });

  it('refuses a single-chat to that differs from the target, and fills an empty one', async () => {
    const { service, store } = await messageHarness();
    expect(await status(service.send(alice, msg({ to: 'carol' }), noE2e))).toBe(Status.BAD_REQUEST);
    await service.send(alice, msg({ to: '' }), noE2e);
    await service.send(alice, msg({ to: 'bob' }), noE2e);
    expect((await store.pull('bob', 0, 10)).entries.map((e) => e.message.to)).toEqual(['bob', 'bob']);
  });

  it('refuses a missing messageContent', async () => {
    const { service } = await messageHarness();
    expect(await status(service.send(alice, msg({ messageContent: undefined }), noE2e))).toBe(
      Status.BAD_REQUEST,
    );
  });

  it('refuses RECALL content from a client', async () => {
    const { service } = await messageHarness();
    const m = msg({ messageContent: content({ contentType: ContentType.RECALL }) });
    expect(await status(service.send(alice, m, noE2e))).toBe(Status.BAD_REQUEST);
  });

  it('refuses plaintext fields on an end-to-end message, and stores a clean one as e2e', async () => {
    const { service, store } = await messageHarness();
    const e2e = { e2e: true };
    const searchable = msg({ messageContent: content({ searchableContent: 'x', pushContent: '' }) });
    const push = msg({ messageContent: content({ searchableContent: '', pushContent: 'x' }) });
    expect(await status(service.send(alice, searchable, e2e))).toBe(Status.BAD_REQUEST);
    expect(await status(service.send(alice, push, e2e))).toBe(Status.BAD_REQUEST);
    await service.send(
      alice,
      msg({ messageContent: content({ searchableContent: '', pushContent: '' }) }),
      e2e,
    );
    expect((await store.pull('bob', 0, 10)).entries.map((e) => e.message.e2e)).toEqual([true]);
  });

  it('refuses mentioning a non-member, accepts members, everyone, and refuses an unknown mentionedType', async () => {
    const { service, groups } = await messageHarness();
    groups.set('g', ['alice', 'bob']);
    const mention = (mentionedType: number, mentionedTargets: string[]) =>
      msg({ conversation: group('g'), messageContent: content({ mentionedType, mentionedTargets }) });
    expect(await status(service.send(alice, mention(1, ['bob', 'carol']), noE2e))).toBe(Status.BAD_REQUEST);
    expect(await status(service.send(alice, mention(3, []), noE2e))).toBe(Status.BAD_REQUEST);
    await expect(service.send(alice, mention(1, ['bob']), noE2e)).resolves.toMatchObject({ seq: 1 });
    await expect(service.send(alice, mention(2, []), noE2e)).resolves.toMatchObject({ seq: 2 });
    // In a single chat the participants are the two parties.
    const dmMention = msg({ messageContent: content({ mentionedType: 1, mentionedTargets: ['carol'] }) });
    expect(await status(service.send(alice, dmMention, noE2e))).toBe(Status.BAD_REQUEST);
  });

  it('answers NOT_FOUND for an unknown group and FORBIDDEN for a non-member', async () => {
    const { service, groups } = await messageHarness();
    expect(await status(service.send(alice, msg({ conversation: group('nope') }), noE2e))).toBe(
      Status.NOT_FOUND,
    );
    groups.set('g', ['bob', 'carol']);
    expect(await status(service.send(alice, msg({ conversation: group('g') }), noE2e))).toBe(
      Status.FORBIDDEN,
    );
  });

  it('answers NOT_FOUND for a chatroom (no rooms exist until the admin API)', async () => {
    const { service } = await messageHarness();
    const conversation = { type: ConversationType.CHATROOM, target: 'room' };
    expect(await status(service.send(alice, msg({ conversation }), noE2e))).toBe(Status.NOT_FOUND);
  });
});

describe('MessageService.send: storing and acking', () => {
  it('stores in both inboxes and acks with uid, serverTime and the sender seq', async () => {
    const { service, store, clock } = await messageHarness();
    await service.send(caller('bob'), msg({ conversation: single('carol') }), noE2e);
    const ack = await service.send(alice, msg(), noE2e);
    expect(ack.serverTime).toBe(clock.now());
    expect(ack.seq).toBe(1);
    const [entry] = (await store.pull('bob', 0, 10)).entries.slice(-1);
    expect(entry).toMatchObject({ seq: 2, message: { uid: ack.messageUid, serverTime: ack.serverTime } });
    expect(await store.head('alice')).toBe(1);
  });

  it('answers a resend of (from, device, messageId) with the same ack and delivers it once', async () => {
    const h = await messageHarness();
    await h.online('bob');
    const first = await h.service.send(alice, msg({ messageId: 7n }), noE2e);
    h.clock.advance(500);
    const again = await h.service.send(alice, msg({ messageId: 7n }), noE2e);
    expect(again).toEqual(first);
    expect(await h.store.head('bob')).toBe(1);
    expect(kinds(await h.deliveries())).toEqual(['message:bob@n1']);
    // Same messageId from another device is a new message.
    const other = await h.service.send(caller('alice', 'd2'), msg({ messageId: 7n }), noE2e);
    expect(other.messageUid).not.toBe(first.messageUid);
  });

  it('appends a group message to every member inbox', async () => {
    const { service, store, groups } = await messageHarness();
    groups.set('g', ['alice', 'bob', 'carol']);
    await service.send(caller('bob'), msg({ conversation: single('carol') }), noE2e);
    const ack = await service.send(alice, msg({ conversation: group('g') }), noE2e);
    expect(ack.seq).toBe(1);
    expect(await Promise.all(['alice', 'bob', 'carol'].map((u) => store.head(u)))).toEqual([1, 2, 2]);
  });
});

describe('MessageService: fan-out (protocol.md §6 Delivery)', () => {
  it("delivers to each recipient device with that user's seq, and to the sender's other devices", async () => {
    const h = await messageHarness();
    await h.online('bob', 'phone', 'n2');
    await h.online('alice', 'd1', 'n1'); // the sending device: gets the ack only
    await h.online('alice', 'tablet', 'n2');
    await h.service.send(caller('bob', 'phone', 'n2'), msg({ conversation: single('carol') }), noE2e);
    await h.deliveries();
    h.delivered.get('n2')?.splice(0);
    const ack = await h.service.send(alice, msg(), noE2e);
    const ds = await h.deliveries();
    expect(ds).toHaveLength(2);
    const toBob = ds.find((d) => d.kind !== 'room' && d.userId === 'bob');
    const toAlice = ds.find((d) => d.kind !== 'room' && d.userId === 'alice');
    expect(toBob).toMatchObject({ kind: 'message', nodeId: 'n2', seq: 2 });
    expect(delivered(toBob).messageUid).toBe(ack.messageUid);
    expect(toBob).not.toHaveProperty('excludeDeviceId');
    expect(toAlice).toMatchObject({ kind: 'message', nodeId: 'n2', seq: ack.seq, excludeDeviceId: 'd1' });
  });

  it('sends nothing to the sender when the sending device is its only one', async () => {
    const h = await messageHarness();
    await h.online('alice');
    await h.service.send(alice, msg(), noE2e);
    expect(await h.deliveries()).toEqual([]);
  });

  it('makes one delivery per (node, user), however many devices the user has there', async () => {
    const h = await messageHarness();
    await h.online('bob', 'phone', 'n1');
    await h.online('bob', 'laptop', 'n1');
    await h.online('bob', 'web', 'n2');
    await h.service.send(alice, msg(), noE2e);
    expect(kinds(await h.deliveries())).toEqual(['message:bob@n1', 'message:bob@n2']);
  });

  it('hands offline recipients (not the sender) to the offline-push hook, with the mention flag', async () => {
    const h = await messageHarness();
    h.groups.set('g', ['alice', 'bob', 'carol', 'dave']);
    await h.online('dave');
    const m = msg({
      conversation: group('g'),
      messageContent: content({ pushContent: 'alice: hi', mentionedType: 1, mentionedTargets: ['carol'] }),
    });
    const ack = await h.service.send(caller('alice', 'd9'), m, noE2e);
    await h.deliveries();
    expect(h.bus.offlinePushes).toEqual([
      {
        userId: 'bob',
        messageUid: ack.messageUid,
        conversation: group('g'),
        from: 'alice',
        pushContent: 'alice: hi',
        mentioned: false,
      },
      {
        userId: 'carol',
        messageUid: ack.messageUid,
        conversation: group('g'),
        from: 'alice',
        pushContent: 'alice: hi',
        mentioned: true,
      },
    ]);
  });

  it('announces a body larger than pushMaxBodyBytes with MN {head}', async () => {
    const h = await messageHarness();
    await h.online('bob');
    await h.service.send(alice, msg({ messageContent: content({ data: new Uint8Array(100) }) }), noE2e);
    await h.service.send(alice, msg({ messageContent: content({ data: new Uint8Array(2000) }) }), noE2e);
    const ds = await h.deliveries();
    expect(ds.map((d) => d.kind)).toEqual(['message', 'notify']);
    expect(ds[1]).toEqual({ kind: 'notify', nodeId: 'n1', userId: 'bob', head: 2 });
  });

  it('announces messages of a group larger than pushMaxGroupMembers with MN', async () => {
    const h = await messageHarness();
    h.groups.set('small', ['alice', 'bob']);
    h.groups.set('big', ['alice', 'bob', 'u1', 'u2', 'u3', 'u4']); // 6 > 5
    await h.online('bob');
    await h.service.send(alice, msg({ conversation: group('small') }), noE2e);
    await h.service.send(alice, msg({ conversation: group('big') }), noE2e);
    expect((await h.deliveries()).map((d) => d.kind)).toEqual(['message', 'notify']);
  });

  it('delivers messages to a user in the order they were acked', async () => {
    const h = await messageHarness();
    await h.online('bob');
    const acks = await Promise.all(Array.from({ length: 20 }, () => h.service.send(alice, msg(), noE2e)));
    const ds = await h.deliveries();
    expect(
      ds.map((d) => (d.kind === 'message' ? codec.Message.decode(d.message.bytes).messageUid : 0n)),
    ).toEqual(acks.map((a) => a.messageUid));
  });

  it('acks even when the bus fails, and when it hangs', async () => {
    for (const mode of ['throw', 'hang'] as const) {
      const h = await messageHarness({ bus: brokenBus(mode) });
      await h.online('bob');
      await expect(h.service.send(alice, msg(), noE2e)).resolves.toMatchObject({ seq: 1 });
      await expect(h.service.send(alice, msg(), noE2e)).resolves.toMatchObject({ seq: 2 });
    }
  });

  it('acks when the route store is down, and later messages still go out', async () => {
    const h = await messageHarness();
    await h.online('bob');
    const real = h.routes.lookup.bind(h.routes);
    let down = true;
    (h.routes as RouteStore).lookup = (users) =>
      down ? Promise.reject(new Error('redis down')) : real(users);
    await expect(h.service.send(alice, msg(), noE2e)).resolves.toMatchObject({ seq: 1 });
    await h.deliveries();
    down = false;
    await h.service.send(alice, msg(), noE2e);
    const ds = await h.deliveries();
    expect(ds.map((d) => (d.kind === 'message' ? d.seq : 0))).toEqual([2]);
  });
});

describe('MessageService: TYPING (protocol.md §6 Transient content)', () => {
  it('is not stored, takes seq 0 and a fresh uid, and reaches only online recipient devices', async () => {
    const h = await messageHarness();
    await h.online('bob', 'phone', 'n2');
    await h.online('alice', 'tablet', 'n1');
    const typing = () => msg({ messageContent: content({ contentType: ContentType.TYPING }) });
    const a1 = await h.service.send(alice, typing(), noE2e);
    const a2 = await h.service.send(alice, typing(), noE2e);
    expect(a1.seq).toBe(0);
    expect(a2.messageUid).not.toBe(a1.messageUid);
    expect(await h.store.head('alice')).toBe(0);
    expect(await h.store.head('bob')).toBe(0);
    await h.service.send(caller('carol'), typing(), noE2e);
    const ds = await h.deliveries();
    expect(ds.every((d) => d.kind === 'message' && d.userId === 'bob' && d.seq === 0)).toBe(true);
    expect(ds).toHaveLength(3);
  });

  it('makes no offline push for an offline recipient', async () => {
    const h = await messageHarness();
    await h.service.send(alice, msg({ messageContent: content({ contentType: ContentType.TYPING }) }), noE2e);
    await h.deliveries();
    expect(h.bus.offlinePushes).toEqual([]);
  });
});

describe('MessageService.pull', () => {
  it('uses limit 100 for 0 and caps at 500', async () => {
    const { service, store } = await messageHarness();
    for (let i = 0; i < 600; i++) await service.send(alice, msg(), noE2e);
    const dflt = await service.pull(caller('bob'), { since: 0, limit: 0, beforeUid: 0n });
    expect(dflt.messages).toHaveLength(100);
    expect(dflt).toMatchObject({ head: 600, hasMore: true });
    const capped = await service.pull(caller('bob'), { since: 0, limit: 1000, beforeUid: 0n });
    expect(capped.messages).toHaveLength(500);
    const rest = await service.pull(caller('bob'), { since: 500, limit: 500, beforeUid: 0n });
    expect(rest.messages.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 501 + i));
    expect(rest.hasMore).toBe(false);
    expect(await store.head('bob')).toBe(600);
  });

  it("delivers messages as sent, with the server fields and the puller's seq", async () => {
    const { service } = await messageHarness();
    await service.send(caller('bob'), msg({ conversation: single('zed') }), noE2e);
    const ack = await service.send(alice, msg({ messageId: 3n, to: 'bob' }), noE2e);
    const { messages } = await service.pull(caller('bob'), { since: 1, limit: 10, beforeUid: 0n });
    expect(messages).toEqual([
      {
        messageId: 3n,
        messageContent: content(),
        conversation: single('bob'),
        from: 'alice',
        to: 'bob',
        messageUid: ack.messageUid,
        serverTime: ack.serverTime,
        seq: 2,
      },
    ]);
  });

  it('returns conversation history newest first, ignoring since, with the inbox head', async () => {
    const { service } = await messageHarness();
    const uids: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      uids.push((await service.send(alice, msg(), noE2e)).messageUid);
      await service.send(caller('bob'), msg({ conversation: single('carol') }), noE2e);
    }
    const bob = caller('bob');
    const page1 = await service.pull(bob, {
      since: 99,
      limit: 3,
      conversation: single('alice'),
      beforeUid: 0n,
    });
    expect(page1.messages.map((m) => m.messageUid)).toEqual([uids[4], uids[3], uids[2]]);
    expect(page1).toMatchObject({ head: 10, hasMore: true });
    const page2 = await service.pull(bob, {
      since: 0,
      limit: 3,
      conversation: single('alice'),
      beforeUid: uids[2] as bigint,
    });
    expect(page2.messages.map((m) => m.messageUid)).toEqual([uids[1], uids[0]]);
    expect(page2.hasMore).toBe(false);
  });
});

describe('MessageService.recall (protocol.md §6 Recall)', () => {
  it('answers NOT_FOUND for an unknown uid', async () => {
    const { service } = await messageHarness();
    expect(await status(service.recall(alice, 12345n))).toBe(Status.NOT_FOUND);
  });

  it("answers FORBIDDEN for another user's message", async () => {
    const { service } = await messageHarness();
    const ack = await service.send(alice, msg(), noE2e);
    expect(await status(service.recall(caller('bob'), ack.messageUid))).toBe(Status.FORBIDDEN);
  });

  it('answers EXPIRED after the recall window', async () => {
    const { service, clock, config } = await messageHarness();
    const ack = await service.send(alice, msg(), noE2e);
    clock.advance(config.recallWindowMs);
    const onTime = await service.send(alice, msg(), noE2e);
    clock.advance(1);
    expect(await status(service.recall(alice, ack.messageUid))).toBe(Status.EXPIRED);
    await expect(service.recall(alice, onTime.messageUid)).resolves.toBeUndefined();
  });

  it('wipes the message and appends a RECALL notice to every participant, delivered like a message', async () => {
    const h = await messageHarness();
    await h.online('bob');
    const ack = await h.service.send(alice, msg(), noE2e);
    await h.deliveries();
    h.delivered.get('n1')?.splice(0);
    await h.service.recall(alice, ack.messageUid);
    const bob = await h.service.pull(caller('bob'), { since: 0, limit: 10, beforeUid: 0n });
    expect(bob.messages).toHaveLength(2);
    const [wiped, notice] = bob.messages;
    expect(wiped?.messageContent).toMatchObject({
      contentType: ContentType.RECALL,
      data: new Uint8Array(0),
      searchableContent: '',
      pushContent: '',
    });
    expect(notice).toMatchObject({ from: 'alice', conversation: single('bob'), seq: 2 });
    expect(notice?.messageContent?.contentType).toBe(ContentType.RECALL);
    expect(uidFromBytes(notice?.messageContent?.data as Uint8Array)).toBe(ack.messageUid);
    expect(await h.store.head('alice')).toBe(2);
    const ds = await h.deliveries();
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ kind: 'message', userId: 'bob', seq: 2 });
    expect(delivered(ds[0]).messageUid).toBe(notice?.messageUid);
  });

  it('resolves a second recall without appending again', async () => {
    const h = await messageHarness();
    const ack = await h.service.send(alice, msg(), noE2e);
    await h.service.recall(alice, ack.messageUid);
    await h.service.recall(alice, ack.messageUid);
    expect(await h.store.head('bob')).toBe(2);
    expect(await h.store.head('alice')).toBe(2);
  });

  it('sends the notice of a group message to every member', async () => {
    const h = await messageHarness();
    h.groups.set('g', ['alice', 'bob', 'carol']);
    const ack = await h.service.send(alice, msg({ conversation: group('g') }), noE2e);
    await h.service.recall(alice, ack.messageUid);
    expect(await Promise.all(['alice', 'bob', 'carol'].map((u) => h.store.head(u)))).toEqual([2, 2, 2]);
    const [, notice] = (await h.store.pull('carol', 0, 10)).entries;
    expect(notice?.message.conversation).toEqual(group('g'));
  });
});

describe('MessageService: head and chatrooms', () => {
  it('returns the inbox head', async () => {
    const { service } = await messageHarness();
    expect(await service.head('bob')).toBe(0);
    await service.send(alice, msg(), noE2e);
    await service.send(alice, msg(), noE2e);
    expect(await service.head('bob')).toBe(2);
  });

  it('answers NOT_FOUND to CRJ and CRQ (no rooms exist until the admin API)', async () => {
    const { service } = await messageHarness();
    expect(await status(service.joinChatroom(alice, 'room'))).toBe(Status.NOT_FOUND);
    expect(await status(service.quitChatroom(alice, 'room'))).toBe(Status.NOT_FOUND);
  });
});
