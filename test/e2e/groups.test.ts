/**
 * protocol.md §6 Groups, Offline push hook and Delivery (MPS / MN) for groups, over real TCP
 * against the embedded server; groups are managed through the admin API. The scenarios both modes
 * share (a member offline, a member removed) are in test/conformance/messaging.scenarios.ts.
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

beforeAll(async () => {
  srv = await startTestServer();
  admin = adminClient(srv.adminUrl, srv.adminSecret);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await srv?.close();
});

// The 3-member group with one member offline (offline-push records, pull later in order) and the
// removed member who stops receiving run against both modes in test/conformance/messaging.scenarios.ts.
describe('group offline push (protocol.md §6 Groups, Offline push hook)', () => {
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
