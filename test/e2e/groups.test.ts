/**
 * protocol.md §6 Groups, Offline push hook, Delivery (MPS / MN) and Conversation history for
 * groups, over real TCP against the embedded server; groups are managed through the admin API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Command,
  ContentType,
  ConversationType,
  codec,
  type Message,
  type MessageContent,
  Status,
} from '../../packages/protocol/src/index.js';
import { type AdminClient, adminClient } from '../support/admin.js';
import {
  connectAs,
  errorOf,
  expectStatus,
  nextPush,
  pullOk,
  sendMessage,
  sendOk,
  sleep,
  text,
  textMessage,
  uniqueUser,
} from '../support/im.js';
import type { RawClient } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
let admin: AdminClient;
const clients: RawClient[] = [];

async function online(s: TestServer, userId: string, deviceId = 'd1') {
  const r = await connectAs(s.port, await s.identity(userId, deviceId));
  clients.push(r.c);
  return r.c;
}

const toGroup = (group: string, body: string, content: Partial<MessageContent> = {}) =>
  textMessage(group, body, { type: ConversationType.GROUP, content });

async function createGroup(a: AdminClient, members: string[]): Promise<string> {
  const groupId = uniqueUser('group');
  const res = await a.call('POST', '/v1/groups', { groupId, members });
  expect(res.status).toBe(201);
  return groupId;
}

/** True when no MPS / MN arrived on c by the time a PING round trip (plus a short wait) completes. */
async function nothingPushed(c: RawClient, waitMs = 150): Promise<boolean> {
  await sleep(waitMs);
  expectStatus(await c.request({ command: Command.PING }), Status.OK);
  return c.pending((f) => f.command === Command.MPS || f.command === Command.MN).length === 0;
}

async function history(c: RawClient, target: string, type: number, beforeUid = 0n, limit = 100) {
  const res = await c.request({
    command: Command.MP,
    body: codec.PullRequest.encode({ since: 0, limit, conversation: { type, target }, beforeUid }),
  });
  return codec.PullResponse.decode(expectStatus(res, Status.OK).body);
}

beforeAll(async () => {
  srv = await startTestServer();
  admin = adminClient(srv.adminUrl, srv.adminSecret);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await srv?.close();
});

describe('a 3-member group with one member offline (protocol.md §6 Groups, Offline push hook)', () => {
  it('online members get MPS, the offline one gets an offline-push record, then pulls in order', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const carol = uniqueUser('carol');
    const group = await createGroup(admin, [alice, bob, carol]);
    const a = await online(srv, alice);
    const b = await online(srv, bob);

    const acks = [];
    acks.push(await sendOk(a, toGroup(group, 'one', { pushContent: 'alice: one' })));
    acks.push(
      await sendOk(
        a,
        toGroup(group, 'two', { pushContent: 'alice: two', mentionedType: 1, mentionedTargets: [carol] }),
      ),
    );
    acks.push(await sendOk(a, toGroup(group, 'three', { pushContent: 'alice: three' })));
    expect(acks.map((x) => x.seq)).toEqual([1, 2, 3]);

    for (const [i, body] of ['one', 'two', 'three'].entries()) {
      const { message } = await nextPush(b);
      expect(text(message)).toBe(body);
      expect(message.conversation).toEqual({ type: ConversationType.GROUP, target: group });
      expect(message.from).toBe(alice);
      expect(message.seq).toBe(i + 1);
      expect(message.messageUid).toBe(acks[i]?.messageUid);
    }
    expect(await nothingPushed(a)).toBe(true);

    // One record per offline recipient per message; none for the online members.
    const records = srv.server.offlinePushes().filter((r) => r.conversation.target === group);
    expect(records).toEqual(
      acks.map((ack, i) => ({
        userId: carol,
        messageUid: ack.messageUid,
        conversation: { type: ConversationType.GROUP, target: group },
        from: alice,
        pushContent: `alice: ${['one', 'two', 'three'][i]}`,
        mentioned: i === 1,
      })),
    );

    const c = await online(srv, carol);
    const page = await pullOk(c, 0);
    expect(page.messages.map(text)).toEqual(['one', 'two', 'three']);
    expect(page.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(page.messages[1]?.messageContent?.mentionedTargets).toEqual([carol]);
    expect(page.head).toBe(3);
  });

  it('TYPING in a group is pushed with seq 0 and never offline-pushed or stored', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const offline = uniqueUser('offline');
    const group = await createGroup(admin, [alice, bob, offline]);
    const a = await online(srv, alice);
    const b = await online(srv, bob);
    const ack = await sendOk(
      a,
      textMessage(group, '', { type: ConversationType.GROUP, contentType: ContentType.TYPING }),
    );
    expect(ack.seq).toBe(0);
    expect((await nextPush(b)).message.seq).toBe(0);
    expect(srv.server.offlinePushes().filter((r) => r.conversation.target === group)).toEqual([]);
    expect((await pullOk(b, 0)).messages).toEqual([]);
  });
});

describe('group send checks (protocol.md §6 Groups)', () => {
  it('a non-member is FORBIDDEN, an unknown group NOT_FOUND, a mention of a non-member BAD_REQUEST', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const group = await createGroup(admin, [alice, bob]);
    const outsider = await online(srv, uniqueUser('eve'));
    const res = await sendMessage(outsider, toGroup(group, 'hi'));
    expectStatus(res, Status.FORBIDDEN);
    expect(errorOf(res).message).toMatch(/member/);
    expectStatus(await sendMessage(outsider, toGroup(uniqueUser('nogroup'), 'hi')), Status.NOT_FOUND);

    const a = await online(srv, alice);
    const bad = await sendMessage(
      a,
      toGroup(group, 'hey', { mentionedType: 1, mentionedTargets: [bob, 'stranger'] }),
    );
    expectStatus(bad, Status.BAD_REQUEST);
    expect(errorOf(bad).message).toMatch(/mention/);
    // Nothing was stored by the refused sends.
    expect((await pullOk(a, 0)).messages).toEqual([]);
  });
});

describe('member changes apply to the next message (protocol.md §6 Groups)', () => {
  it('a removed member stops receiving and keeps what they had; re-added, they receive again', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const carol = uniqueUser('carol');
    const group = await createGroup(admin, [alice, bob, carol]);
    const a = await online(srv, alice);
    const b = await online(srv, bob);
    const c = await online(srv, carol);

    const before = await sendOk(a, toGroup(group, 'before'));
    expect(text((await nextPush(b)).message)).toBe('before');
    expect(text((await nextPush(c)).message)).toBe('before');

    const removed = await admin.call('DELETE', `/v1/groups/${encodeURIComponent(group)}/members/${bob}`);
    expect(removed.status).toBe(200);
    expect(removed.body.members).toEqual([alice, carol].sort());

    const during = await sendOk(a, toGroup(group, 'during'));
    expect(text((await nextPush(c)).message)).toBe('during');
    expect(await nothingPushed(b)).toBe(true);
    // Bob keeps what reached him, and only that: inbox and group history.
    expect((await pullOk(b, 0)).messages.map(text)).toEqual(['before']);
    const bobHistory = await history(b, group, ConversationType.GROUP);
    expect(bobHistory.messages.map((m) => m.messageUid)).toEqual([before.messageUid]);
    const carolHistory = await history(c, group, ConversationType.GROUP);
    expect(carolHistory.messages.map((m) => m.messageUid)).toEqual([during.messageUid, before.messageUid]);
    // He may no longer send to it.
    expectStatus(await sendMessage(b, toGroup(group, 'let me in')), Status.FORBIDDEN);
    // No offline push for him either.
    expect(srv.server.offlinePushes().some((r) => r.userId === bob)).toBe(false);

    const added = await admin.call('POST', `/v1/groups/${encodeURIComponent(group)}/members`, {
      userIds: [bob],
    });
    expect(added.status).toBe(200);
    await sendOk(a, toGroup(group, 'after'));
    const { message } = await nextPush(b);
    expect(text(message)).toBe('after');
    expect(message.seq).toBe(2);
  });

  it('a deleted group is NOT_FOUND for the next message; its messages stay in the inboxes', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const group = await createGroup(admin, [alice, bob]);
    const a = await online(srv, alice);
    await sendOk(a, toGroup(group, 'last words'));
    expect((await admin.call('DELETE', `/v1/groups/${encodeURIComponent(group)}`)).status).toBe(204);
    expectStatus(await sendMessage(a, toGroup(group, 'anyone?')), Status.NOT_FOUND);
    const b = await online(srv, bob);
    expect((await pullOk(b, 0)).messages.map(text)).toEqual(['last words']);
  });
});

describe('large groups are announced with MN (protocol.md §6 Delivery)', () => {
  it('above message.pushMaxGroupMembers the online members get MN {head} and pull', async () => {
    const small = await startTestServer({ message: { pushMaxGroupMembers: 2 } });
    const smallAdmin = adminClient(small.adminUrl, small.adminSecret);
    try {
      const [alice, bob, carol] = [uniqueUser('alice'), uniqueUser('bob'), uniqueUser('carol')];
      const group = await createGroup(smallAdmin, [alice, bob, carol]);
      const a = await online(small, alice);
      const b = await online(small, bob);
      const ack = await sendOk(a, toGroup(group, 'to many'));
      const mn = await b.next((f) => f.command === Command.MN);
      expect(codec.Notify.decode(mn.body).head).toBe(1);
      expect(b.pending((f) => f.command === Command.MPS)).toEqual([]);
      const pulled: Message[] = (await pullOk(b, 0)).messages;
      expect(pulled.map((m) => m.messageUid)).toEqual([ack.messageUid]);
    } finally {
      await small.close();
    }
  });
});
