/**
 * protocol.md §4 MS / MP / MR / MPS / MN / CRJ and §6 Send, Inbox and seq, Delivery, Guarantee,
 * Transient content, Recall, Conversation history, Groups. Senders sit on edge 0 and recipients
 * on edge 1, so on a cluster every push crosses nodes (through Kafka).
 */
import { describe, expect, it } from 'vitest';
import {
  Command,
  ContentType,
  ConversationType,
  codec,
  Encrypt,
  Flow,
  type MessageContent,
  packFlag,
  Status,
  unpackFlag,
} from '../../packages/protocol/src/index.js';
import type { AdminClient } from '../support/admin.js';
import {
  errorOf,
  expectStatus,
  pullOk,
  sendMessage,
  sendOk,
  sleep,
  text,
  textMessage,
  uniqueUser,
} from '../support/im.js';
import type { RawClient } from '../support/raw-client.js';
import type { Harness } from './harness.js';
import { CONFORMANCE_SETTINGS } from './target.js';

const SENDER_EDGE = 0;
const RECIPIENT_EDGE = 1;

function uidBytes(uid: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, uid);
  return out;
}

export function messagingScenarios(h: () => Harness): void {
  const sender = async (userId = uniqueUser('alice'), deviceId = 'd1') =>
    (await h().online(userId, deviceId, SENDER_EDGE)).c;
  const recipient = async (userId: string, deviceId = 'd1') =>
    (await h().online(userId, deviceId, RECIPIENT_EDGE)).c;

  describe('live push (protocol.md §6 Delivery)', () => {
    it('A → B: B gets MPS with the full message and its own seq; A gets SendAck with its own seq', async () => {
      const alice = uniqueUser('alice');
      const bob = uniqueUser('bob');
      const a = await sender(alice);
      const b = await recipient(bob);
      // Give Bob a different inbox position than Alice: one earlier message only Bob has.
      await sendOk(await sender(uniqueUser('carol')), textMessage(bob, 'earlier'));
      await h().push(b);

      const ack = await sendOk(a, textMessage(bob, 'hello bob'));
      expect(ack.seq).toBe(1);
      expect(ack.messageUid).toBeGreaterThan(0n);
      const { frame, message } = await h().push(b);
      expect(unpackFlag(frame.flag).flow).toBe(Flow.NOTIFY);
      expect(frame.status).toBe(Status.OK);
      expect(message.seq).toBe(2);
      expect(message.messageUid).toBe(ack.messageUid);
      expect(message.serverTime).toBe(ack.serverTime);
      expect(message.from).toBe(alice);
      expect(message.to).toBe(bob);
      expect(message.conversation).toEqual({ type: ConversationType.SINGLE, target: bob });
      expect(text(message)).toBe('hello bob');
      expect(message.messageContent?.searchableContent).toBe('hello bob');
    });

    it('notify frames carry the connection counter from 1 without gaps', async () => {
      const bob = uniqueUser('bob');
      const b = await recipient(bob);
      const a = await sender();
      for (let i = 0; i < 3; i++) await sendOk(a, textMessage(bob, `n${i}`));
      const pushes = [await h().push(b), await h().push(b), await h().push(b)];
      expect(pushes.map((p) => p.frame.seq)).toEqual([1, 2, 3]);
      expect(pushes.map((p) => text(p.message))).toEqual(['n0', 'n1', 'n2']);
    });

    it('two MS written back to back are stored, acked and delivered in that order', async () => {
      const bob = uniqueUser('bob');
      const b = await recipient(bob);
      const a = await sender();
      const s1 = a.send({ command: Command.MS, body: codec.Message.encode(textMessage(bob, 'first')) });
      const s2 = a.send({ command: Command.MS, body: codec.Message.encode(textMessage(bob, 'second')) });
      const r1 = await a.next((f) => f.command === Command.MS);
      const r2 = await a.next((f) => f.command === Command.MS);
      expect([r1.seq, r2.seq]).toEqual([s1, s2]);
      const [ack1, ack2] = [codec.SendAck.decode(r1.body), codec.SendAck.decode(r2.body)];
      expect(ack2.seq).toBe(ack1.seq + 1);
      expect(ack2.messageUid).toBeGreaterThan(ack1.messageUid);
      const p1 = await h().push(b);
      const p2 = await h().push(b);
      expect([text(p1.message), text(p2.message)]).toEqual(['first', 'second']);
      expect(p2.message.seq).toBe(p1.message.seq + 1);
    });

    it('a from that is not the logged-in user is FORBIDDEN', async () => {
      const a = await sender();
      const res = await sendMessage(a, { ...textMessage(uniqueUser('bob'), 'x'), from: 'mallory' });
      expectStatus(res, Status.FORBIDDEN);
      expect(errorOf(res).message.length).toBeGreaterThan(0);
    });

    it('an empty conversation target is BAD_REQUEST', async () => {
      const a = await sender();
      const res = await sendMessage(a, textMessage('', 'x'));
      expectStatus(res, Status.BAD_REQUEST);
      expect(errorOf(res).message).toMatch(/target/);
    });

    it('a message to oneself: one inbox entry, the other device gets it', async () => {
      const alice = uniqueUser('self');
      const a1 = await sender(alice, 'phone');
      const a2 = await recipient(alice, 'laptop');
      const ack = await sendOk(a1, textMessage(alice, 'note to self'));
      expect((await h().push(a2)).message.messageUid).toBe(ack.messageUid);
      const pulled = await pullOk(a2, 0);
      expect(pulled.messages.map((m) => m.messageUid)).toEqual([ack.messageUid]);
      expect(pulled.head).toBe(ack.seq);
    });
  });

  describe('offline delivery and pull (protocol.md §6 Inbox and seq)', () => {
    it('messages to a user who never logged in wait in the inbox and are pulled in order', async () => {
      const bob = uniqueUser('bob');
      const a = await sender();
      const acks = [];
      for (const t of ['one', 'two', 'three']) acks.push(await sendOk(a, textMessage(bob, t)));

      const b = await recipient(bob);
      const all = await pullOk(b, 0);
      expect(all.head).toBe(3);
      expect(all.hasMore).toBe(false);
      expect(all.messages.map((m) => [m.seq, text(m), m.messageUid])).toEqual([
        [1, 'one', acks[0]?.messageUid],
        [2, 'two', acks[1]?.messageUid],
        [3, 'three', acks[2]?.messageUid],
      ]);
      const rest = await pullOk(b, 1, 1);
      expect(rest.messages.map((m) => m.seq)).toEqual([2]);
      expect(rest.hasMore).toBe(true);
      expect((await pullOk(b, 3)).messages).toEqual([]);
    });

    it('LoginResponse.head is the inbox head', async () => {
      const bob = uniqueUser('bob');
      const a = await sender();
      await sendOk(a, textMessage(bob, 'x'));
      await sendOk(a, textMessage(bob, 'y'));
      const { login } = await h().online(bob, 'd1', RECIPIENT_EDGE);
      expect(login.head).toBe(2);
    });

    it('messages of two senders keep the order the server accepted them, gap-free', async () => {
      const bob = uniqueUser('bob');
      const a = await sender();
      const c = await recipient(uniqueUser('carol'));
      const acks = [];
      for (let i = 0; i < 6; i++) acks.push(await sendOk(i % 2 === 0 ? a : c, textMessage(bob, `m${i}`)));
      const b = await recipient(bob);
      const pulled = await pullOk(b, 0);
      expect(pulled.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(pulled.messages.map((m) => m.messageUid)).toEqual(acks.map((x) => x.messageUid));
    });

    it('conversation history: newest first, paged by beforeUid', async () => {
      const alice = uniqueUser('alice');
      const bob = uniqueUser('bob');
      const a = await sender(alice);
      for (const t of ['h1', 'h2', 'h3']) await sendOk(a, textMessage(bob, t));
      const b = await recipient(bob);
      const page = async (beforeUid: bigint) => {
        const res = await b.request({
          command: Command.MP,
          body: codec.PullRequest.encode({
            limit: 2,
            conversation: { type: ConversationType.SINGLE, target: alice },
            beforeUid,
          }),
        });
        return codec.PullResponse.decode(expectStatus(res, Status.OK).body);
      };
      const first = await page(0n);
      expect(first.messages.map(text)).toEqual(['h3', 'h2']);
      expect(first.head).toBe(3);
      const second = await page(first.messages[1]?.messageUid ?? 0n);
      expect(second.messages.map(text)).toEqual(['h1']);
    });
  });

  describe('multi-device (protocol.md §6 Delivery)', () => {
    it("the sender's other device gets the MPS with the sender's seq; the sending device does not", async () => {
      const alice = uniqueUser('alice');
      const bob = uniqueUser('bob');
      // Each user has one device on each edge.
      const a1 = (await h().online(alice, 'phone', 0)).c;
      const a2 = (await h().online(alice, 'laptop', 1)).c;
      const b1 = (await h().online(bob, 'phone', 1)).c;
      const b2 = (await h().online(bob, 'tablet', 0)).c;
      const ack = await sendOk(a1, textMessage(bob, 'to all devices'));

      const copy = await h().push(a2);
      expect(copy.message.messageUid).toBe(ack.messageUid);
      expect(copy.message.seq).toBe(ack.seq);
      expect(copy.message.from).toBe(alice);
      for (const b of [b1, b2]) expect((await h().push(b)).message.messageUid).toBe(ack.messageUid);
      expect(await h().noPush(a1)).toBe(true);
      // And both of Alice's devices see it in a pull.
      expect((await pullOk(a2, 0)).messages.map((m) => m.messageUid)).toEqual([ack.messageUid]);
      expect((await pullOk(a1, 0)).messages.map((m) => m.messageUid)).toEqual([ack.messageUid]);
    });

    it("one user's devices on TCP and WebSocket see each other's messages (protocol.md §1)", async (ctx) => {
      const alice = uniqueUser('alice-mixed');
      const bob = uniqueUser('bob-mixed');
      // The other transport on the other edge: the pushes cross nodes when there are several.
      const other = await h().onlineAlternate(alice, 'other-transport', 1);
      if (!other) return ctx.skip('the target listens on one transport only');
      const here = (await h().online(alice, 'this-transport', 0)).c;
      const b = (await h().online(bob, 'd1', 0)).c;

      const fromHere = await sendOk(here, textMessage(bob, 'from this transport'));
      const copy = await h().push(other.c);
      expect([copy.message.messageUid, copy.message.seq]).toEqual([fromHere.messageUid, fromHere.seq]);
      expect((await h().push(b)).message.messageUid).toBe(fromHere.messageUid);

      const fromOther = await sendOk(other.c, textMessage(bob, 'from the other transport'));
      const copyHere = await h().push(here);
      expect([copyHere.message.messageUid, copyHere.message.seq]).toEqual([
        fromOther.messageUid,
        fromOther.seq,
      ]);

      const reply = await sendOk(b, textMessage(alice, 'to both'));
      for (const c of [here, other.c]) expect((await h().push(c)).message.messageUid).toBe(reply.messageUid);
    });
  });

  describe('idempotent resend (protocol.md §6 Send)', () => {
    it('the same (from, device, messageId) returns the same ack and stores one copy', async () => {
      const bob = uniqueUser('bob');
      const a = await sender();
      const m = textMessage(bob, 'once', { messageId: 4242n });
      const first = await sendOk(a, m);
      const again = await sendOk(a, m);
      expect(again).toEqual(first);
      const b = await recipient(bob);
      const pulled = await pullOk(b, 0);
      expect(pulled.messages.map((x) => x.messageUid)).toEqual([first.messageUid]);
      expect(pulled.head).toBe(1);
    });

    it('a resend from a new connection (another edge) is deduplicated too; another device is not', async () => {
      const alice = uniqueUser('alice');
      const bob = uniqueUser('bob');
      const m = textMessage(bob, 'retry', { messageId: 77n });
      const first = await sendOk(await sender(alice), m);
      const again = await sendOk((await h().online(alice, 'd1', RECIPIENT_EDGE)).c, m);
      expect(again).toEqual(first);
      // The key includes the device: the same messageId from another device is a new message.
      const other = await sendOk(await sender(alice, 'd2'), m);
      expect(other.messageUid).not.toBe(first.messageUid);
      const pulled = await pullOk(await recipient(bob), 0);
      expect(pulled.messages.map((x) => x.messageUid)).toEqual([first.messageUid, other.messageUid]);
    });
  });

  describe('recall (protocol.md §6 Recall)', () => {
    it('by the sender: empty OK; RECALL message delivered and appended; the original is wiped', async () => {
      const alice = uniqueUser('alice');
      const bob = uniqueUser('bob');
      const a = await sender(alice);
      const b = await recipient(bob);
      const ack = await sendOk(a, textMessage(bob, 'oops', { content: { pushContent: 'push' } }));
      await h().push(b);

      const res = await a.request({
        command: Command.MR,
        body: codec.RecallRequest.encode({ messageUid: ack.messageUid }),
      });
      expectStatus(res, Status.OK);
      expect(res.body.length).toBe(0);

      const notice = (await h().push(b)).message;
      expect(notice.messageContent?.contentType).toBe(ContentType.RECALL);
      expect(notice.messageContent?.data).toEqual(uidBytes(ack.messageUid));
      expect(notice.from).toBe(alice);
      expect(notice.conversation).toEqual({ type: ConversationType.SINGLE, target: bob });
      expect(notice.seq).toBe(2);

      const pulled = await pullOk(b, 0);
      expect(pulled.messages.map((m) => m.seq)).toEqual([1, 2]);
      const wiped = pulled.messages[0]?.messageContent;
      expect(pulled.messages[0]?.messageUid).toBe(ack.messageUid);
      expect(wiped?.contentType).toBe(ContentType.RECALL);
      expect(wiped?.data.length).toBe(0);
      expect(wiped?.searchableContent).toBe('');
      expect(wiped?.pushContent).toBe('');
      expect(pulled.messages[1]?.messageContent?.data).toEqual(uidBytes(ack.messageUid));
      // The recaller's own inbox has the notice too.
      expect((await pullOk(a, 0)).messages.map((m) => m.messageContent?.contentType)).toEqual([
        ContentType.RECALL,
        ContentType.RECALL,
      ]);
    });

    it('by someone else: FORBIDDEN with a reason; the message stays', async () => {
      const bob = uniqueUser('bob');
      const a = await sender();
      const b = await recipient(bob);
      const ack = await sendOk(a, textMessage(bob, 'mine'));
      const res = await b.request({
        command: Command.MR,
        body: codec.RecallRequest.encode({ messageUid: ack.messageUid }),
      });
      expectStatus(res, Status.FORBIDDEN);
      expect(errorOf(res).message.length).toBeGreaterThan(0);
      expect((await pullOk(b, 0)).messages.map(text)).toEqual(['mine']);
    });

    it('an unknown uid: NOT_FOUND with a reason', async () => {
      const a = await sender();
      const res = await a.request({
        command: Command.MR,
        body: codec.RecallRequest.encode({ messageUid: 123456789n }),
      });
      expectStatus(res, Status.NOT_FOUND);
      expect(errorOf(res).message.length).toBeGreaterThan(0);
    });
  });

  describe('MN: a body too large to push is announced (protocol.md §4 MN, §6 Delivery)', () => {
    it('the recipient gets MN with the new head and pulls the message', async () => {
      const bob = uniqueUser('bob');
      const a = await sender();
      const b = await recipient(bob);
      const big = new Uint8Array(CONFORMANCE_SETTINGS.pushMaxBodyBytes + 1024).fill(1);
      const ack = await sendOk(a, textMessage(bob, '', { content: { data: big } }));
      const mn = await b.next((f) => f.command === Command.MN || f.command === Command.MPS, h().deliveryMs);
      expect(mn.command).toBe(Command.MN);
      expect(unpackFlag(mn.flag).flow).toBe(Flow.NOTIFY);
      expect(mn.seq).toBe(1);
      expect(codec.Notify.decode(mn.body).head).toBe(1);
      const pulled = await pullOk(b, 0);
      expect(pulled.messages.map((m) => [m.messageUid, m.messageContent?.data.length])).toEqual([
        [ack.messageUid, big.length],
      ]);
    });
  });

  describe('end-to-end encrypted MS (protocol.md §2 encrypt = 3)', () => {
    const e2eFlag = packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.E2E });

    it('is stored and relayed untouched, and delivered marked encrypt = 3', async () => {
      const bob = uniqueUser('bob');
      const a = await sender();
      const b = await recipient(bob);
      const cipher = Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2, 1]);
      const m = textMessage(bob, '', { content: { data: cipher, searchableContent: '' } });
      const res = await sendMessage(a, m, e2eFlag);
      const ack = codec.SendAck.decode(expectStatus(res, Status.OK).body);
      const { frame, message } = await h().push(b);
      expect(unpackFlag(frame.flag).encrypt).toBe(Encrypt.E2E);
      expect(message.messageUid).toBe(ack.messageUid);
      expect(message.messageContent?.data).toEqual(cipher);
      expect((await pullOk(b, 0)).messages[0]?.messageContent?.data).toEqual(cipher);
    });

    it('with plaintext in searchableContent: BAD_REQUEST', async () => {
      const a = await sender();
      const res = await sendMessage(a, textMessage(uniqueUser('bob'), 'leak'), e2eFlag);
      expectStatus(res, Status.BAD_REQUEST);
      expect(errorOf(res).message).toMatch(/searchableContent/);
    });
  });

  describe('transient content (protocol.md §6)', () => {
    it('TYPING is pushed with seq 0 to online devices, acked with seq 0, and never stored', async () => {
      const bob = uniqueUser('bob');
      const a = await sender();
      const b = await recipient(bob);
      const ack = await sendOk(a, textMessage(bob, '', { contentType: ContentType.TYPING }));
      expect(ack.seq).toBe(0);
      const { message } = await h().push(b);
      expect(message.messageContent?.contentType).toBe(ContentType.TYPING);
      expect(message.seq).toBe(0);
      const pulled = await pullOk(b, 0);
      expect(pulled.messages).toEqual([]);
      expect(pulled.head).toBe(0);
    });

    it('TYPING to an offline user is acked and reaches nobody later', async () => {
      const bob = uniqueUser('bob');
      const a = await sender();
      expect((await sendOk(a, textMessage(bob, '', { contentType: ContentType.TYPING }))).seq).toBe(0);
      const b = await recipient(bob);
      expect(await h().noPush(b)).toBe(true);
      expect((await pullOk(b, 0)).head).toBe(0);
    });
  });

  describe('chatrooms (protocol.md §4 CRJ / CRQ, §6 Chatrooms)', () => {
    const roomRequest = (c: RawClient, command: number, chatroomId: string) =>
      c.request({ command, body: codec.ChatroomRequest.encode({ chatroomId }) });
    const toRoom = (room: string, body: string) =>
      textMessage(room, body, { type: ConversationType.CHATROOM });

    it('CRJ / CRQ of an unknown chatroom are NOT_FOUND; an empty id is BAD_REQUEST', async () => {
      const a = await sender();
      for (const command of [Command.CRJ, Command.CRQ]) {
        const res = await roomRequest(a, command, uniqueUser('nope'));
        expectStatus(res, Status.NOT_FOUND);
        expect(errorOf(res).message).toMatch(/chatroom/);
      }
      expectStatus(await roomRequest(a, Command.CRJ, ''), Status.BAD_REQUEST);
    });

    it('members present on any edge get the message with seq 0; it is not stored; CRQ stops it', async (ctx) => {
      const admin = h().admin;
      if (!admin) return ctx.skip('the target has no admin API to create chatrooms');
      const room = uniqueUser('room');
      expect((await admin.call('POST', '/v1/chatrooms', { chatroomId: room })).status).toBe(201);
      const a = await sender();
      const b = await recipient(uniqueUser('bob'));
      const outsider = await recipient(uniqueUser('carol'));
      for (const c of [a, b]) {
        const res = await roomRequest(c, Command.CRJ, room);
        expectStatus(res, Status.OK);
        expect(res.body.length).toBe(0);
      }
      // protocol.md §6 Send: only members present may send.
      expectStatus(await sendMessage(outsider, toRoom(room, 'let me in')), Status.FORBIDDEN);

      const ack = await sendOk(a, toRoom(room, 'hello room'));
      expect(ack.seq).toBe(0);
      const { message } = await h().push(b);
      expect(message.messageUid).toBe(ack.messageUid);
      expect(message.seq).toBe(0);
      expect(message.conversation).toEqual({ type: ConversationType.CHATROOM, target: room });
      expect(text(message)).toBe('hello room');
      expect(await h().noPush(outsider)).toBe(true);
      expect((await pullOk(b, 0)).head).toBe(0);

      expectStatus(await roomRequest(b, Command.CRQ, room), Status.OK);
      await sendOk(a, toRoom(room, 'after bob left'));
      expect(await h().noPush(b)).toBe(true);
    });
  });

  describe('groups (protocol.md §6 Groups)', () => {
    const toGroup = (group: string, body: string, content: Partial<MessageContent> = {}) =>
      textMessage(group, body, { type: ConversationType.GROUP, content });
    const createGroup = async (admin: AdminClient, members: string[]) => {
      const groupId = uniqueUser('group');
      const created = await admin.call('POST', '/v1/groups', { groupId, members });
      expect(created.status).toBe(201);
      return groupId;
    };
    /** protocol.md §6 Conversation history: the group's messages the requester has, newest first. */
    const groupHistory = async (c: RawClient, group: string) => {
      const res = await c.request({
        command: Command.MP,
        body: codec.PullRequest.encode({
          limit: 100,
          conversation: { type: ConversationType.GROUP, target: group },
          beforeUid: 0n,
        }),
      });
      return codec.PullResponse.decode(expectStatus(res, Status.OK).body).messages;
    };

    it('a group message is appended to every member inbox and pushed to the online ones', async (ctx) => {
      const admin = h().admin;
      if (!admin) return ctx.skip('the target has no admin API to create groups');
      const alice = uniqueUser('alice');
      const bob = uniqueUser('bob');
      const carol = uniqueUser('carol');
      const group = await createGroup(admin, [alice, bob, carol]);
      const a = await sender(alice);
      const b = await recipient(bob);
      const ack = await sendOk(a, toGroup(group, 'hi all'));
      const { message } = await h().push(b);
      expect(message.messageUid).toBe(ack.messageUid);
      expect(message.conversation).toEqual({ type: ConversationType.GROUP, target: group });
      const c = await recipient(carol);
      expect((await pullOk(c, 0)).messages.map((m) => m.messageUid)).toEqual([ack.messageUid]);
      // A non-member may not send to the group.
      const outsider = await sender(uniqueUser('dave'));
      expectStatus(await sendMessage(outsider, toGroup(group, 'x')), Status.FORBIDDEN);
    });

    // protocol.md §6 Groups, Offline push hook; docs/protocol.md §8.11 for the record.
    it('3 members, one offline: MPS to the online one, an offline-push record per message for the offline one, who later pulls them in order', async (ctx) => {
      const admin = h().admin;
      if (!admin) return ctx.skip('the target has no admin API to create groups');
      if (!h().hasOfflinePushes) return ctx.skip('the target cannot show offline-push records');
      const alice = uniqueUser('alice');
      const bob = uniqueUser('bob');
      const carol = uniqueUser('carol');
      const group = await createGroup(admin, [alice, bob, carol]);
      const a = await sender(alice);
      const b = await recipient(bob);

      const bodies = ['one', 'two', 'three'];
      const acks = [];
      for (const [i, body] of bodies.entries()) {
        const mention = i === 1 ? { mentionedType: 1, mentionedTargets: [carol] } : {};
        acks.push(await sendOk(a, toGroup(group, body, { pushContent: `alice: ${body}`, ...mention })));
      }
      expect(acks.map((x) => x.seq)).toEqual([1, 2, 3]);

      for (const [i, body] of bodies.entries()) {
        const { message } = await h().push(b);
        expect(text(message)).toBe(body);
        expect(message.conversation).toEqual({ type: ConversationType.GROUP, target: group });
        expect(message.from).toBe(alice);
        expect(message.seq).toBe(i + 1);
        expect(message.messageUid).toBe(acks[i]?.messageUid);
      }

      // One record per offline recipient per message, in the order sent; none for the online members.
      expect(await h().offlinePushes(carol, 3)).toEqual(
        acks.map((ack, i) => ({
          userId: carol,
          messageUid: ack.messageUid,
          conversation: { type: ConversationType.GROUP, target: group },
          from: alice,
          pushContent: `alice: ${bodies[i]}`,
          mentioned: i === 1,
        })),
      );
      // The sending device gets nothing back; the wait also lets any stray record arrive.
      expect(await h().noPush(a)).toBe(true);
      expect(await h().offlinePushes(bob, 0)).toEqual([]);
      expect(await h().offlinePushes(alice, 0)).toEqual([]);

      // Carol comes online on the sender's edge and pulls every group message, in order.
      const { c, login } = await h().online(carol, 'd1', SENDER_EDGE);
      expect(login.head).toBe(3);
      const page = await pullOk(c, 0);
      expect(page.messages.map((m) => [m.seq, text(m), m.messageUid, m.from])).toEqual(
        acks.map((ack, i) => [i + 1, bodies[i], ack.messageUid, alice]),
      );
      expect(page.messages.every((m) => m.conversation?.target === group)).toBe(true);
      expect(page.messages[1]?.messageContent?.mentionedTargets).toEqual([carol]);
      expect(page.head).toBe(3);
      expect(page.hasMore).toBe(false);
    });

    it('a member removed through the admin API gets no push or offline push and pulls nothing new, keeping what they had; re-added, receives again', async (ctx) => {
      const admin = h().admin;
      if (!admin) return ctx.skip('the target has no admin API to manage groups');
      if (!h().hasOfflinePushes) return ctx.skip('the target cannot show offline-push records');
      const alice = uniqueUser('alice');
      const bob = uniqueUser('bob');
      const carol = uniqueUser('carol');
      const group = await createGroup(admin, [alice, bob, carol]);
      const a = await sender(alice);
      const b = await recipient(bob);
      // Carol shares the sender's edge, Bob is on the other one.
      const c = await sender(carol);

      const before = await sendOk(a, toGroup(group, 'before'));
      expect(text((await h().push(b)).message)).toBe('before');
      expect(text((await h().push(c)).message)).toBe('before');

      const removed = await admin.call('DELETE', `/v1/groups/${encodeURIComponent(group)}/members/${bob}`);
      expect(removed.status).toBe(200);
      expect(removed.body.members).toEqual([alice, carol].sort());

      // protocol.md §6 Groups: member changes take effect for the next message.
      const during = await sendOk(a, toGroup(group, 'during'));
      expect(text((await h().push(c)).message)).toBe('during');
      expect(await h().noPush(b)).toBe(true);
      // Bob keeps what reached him, and only that: inbox and group history.
      expect((await pullOk(b, 0)).messages.map((m) => m.messageUid)).toEqual([before.messageUid]);
      expect((await groupHistory(b, group)).map((m) => m.messageUid)).toEqual([before.messageUid]);
      expect((await groupHistory(c, group)).map((m) => m.messageUid)).toEqual([
        during.messageUid,
        before.messageUid,
      ]);
      // He may no longer send to it.
      expectStatus(await sendMessage(b, toGroup(group, 'let me in')), Status.FORBIDDEN);

      // Offline, he gets no offline-push record either, while Carol (a member) does.
      b.close();
      c.close();
      await h().offline(bob);
      await h().offline(carol);
      const away = await sendOk(a, toGroup(group, 'while away', { pushContent: 'alice: while away' }));
      const [record] = await h().offlinePushes(carol, 1);
      expect(record?.messageUid).toBe(away.messageUid);
      // Records of one message are published together; the wait covers one that comes a little later.
      await sleep(h().quietMs);
      expect(await h().offlinePushes(bob, 0)).toEqual([]);

      // Back online, his inbox has not moved; the old message is still there.
      const { c: b2, login } = await h().online(bob, 'd1', RECIPIENT_EDGE);
      expect(login.head).toBe(1);
      expect((await pullOk(b2, 1)).messages).toEqual([]);
      expect((await pullOk(b2, 0)).messages.map((m) => m.messageUid)).toEqual([before.messageUid]);

      // Re-added, he receives the next message, at the next seq of his inbox.
      const added = await admin.call('POST', `/v1/groups/${encodeURIComponent(group)}/members`, {
        userIds: [bob],
      });
      expect(added.status).toBe(200);
      const after = await sendOk(a, toGroup(group, 'after'));
      const { message } = await h().push(b2);
      expect(message.messageUid).toBe(after.messageUid);
      expect(text(message)).toBe('after');
      expect(message.seq).toBe(2);
    });
  });
}
