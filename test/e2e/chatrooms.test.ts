/**
 * protocol.md §4 CRJ / CRQ and §6 Chatrooms over real TCP against the embedded server: rooms are
 * created with the admin API; a message reaches the members present once, with seq 0, is not
 * stored, and is never offline-pushed; sending without joining is FORBIDDEN.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, ConversationType, codec, Status } from '../../packages/protocol/src/index.js';
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

async function online(userId: string, deviceId = 'd1') {
  const r = await connectAs(srv.port, await srv.identity(userId, deviceId));
  clients.push(r.c);
  return r.c;
}

const toRoom = (room: string, body: string) => textMessage(room, body, { type: ConversationType.CHATROOM });

function roomRequest(c: RawClient, command: number, chatroomId: string) {
  return c.request({ command, body: codec.ChatroomRequest.encode({ chatroomId }) });
}

async function createRoom(): Promise<string> {
  const chatroomId = uniqueUser('room');
  expect((await admin.call('POST', '/v1/chatrooms', { chatroomId })).status).toBe(201);
  return chatroomId;
}

async function members(room: string): Promise<number> {
  const res = await admin.call<{ members: number }>('GET', `/v1/chatrooms/${room}`);
  expect(res.status).toBe(200);
  return res.body.members;
}

async function nothingPushed(c: RawClient, waitMs = 150): Promise<boolean> {
  await sleep(waitMs);
  expectStatus(await c.request({ command: Command.PING }), Status.OK);
  return c.pending((f) => f.command === Command.MPS).length === 0;
}

beforeAll(async () => {
  srv = await startTestServer();
  admin = adminClient(srv.adminUrl, srv.adminSecret);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await srv?.close();
});

describe('chatroom join / send / quit (protocol.md §6 Chatrooms)', () => {
  it('members present get each message once with seq 0; nothing is stored or offline-pushed', async () => {
    const room = await createRoom();
    const [alice, bob, carol] = [uniqueUser('alice'), uniqueUser('bob'), uniqueUser('carol')];
    const a = await online(alice);
    const b = await online(bob);
    const b2 = await online(bob, 'd2'); // online, but this device has not joined
    const c = await online(carol); // online, not in the room
    expectStatus(await roomRequest(a, Command.CRJ, room), Status.OK);
    expectStatus(await roomRequest(b, Command.CRJ, room), Status.OK);
    expectStatus(await roomRequest(b, Command.CRJ, room), Status.OK); // joining twice is harmless
    expect(await members(room)).toBe(2);

    const acks = [await sendOk(a, toRoom(room, 'hello room')), await sendOk(a, toRoom(room, 'again'))];
    expect(acks.map((x) => x.seq)).toEqual([0, 0]);
    for (const [i, body] of ['hello room', 'again'].entries()) {
      const { message } = await nextPush(b);
      expect(text(message)).toBe(body);
      expect(message.seq).toBe(0);
      expect(message.from).toBe(alice);
      expect(message.messageUid).toBe(acks[i]?.messageUid);
      expect(message.conversation).toEqual({ type: ConversationType.CHATROOM, target: room });
    }
    // Each once: nothing more for bob, nothing for the sender, the other device or the outsider.
    expect(await nothingPushed(b)).toBe(true);
    expect(await nothingPushed(a)).toBe(true);
    expect(await nothingPushed(b2)).toBe(true);
    expect(await nothingPushed(c)).toBe(true);

    // Not stored: no inbox entry, no history, no offline push.
    for (const x of [a, b]) {
      const page = await pullOk(x, 0);
      expect(page.messages).toEqual([]);
      expect(page.head).toBe(0);
    }
    const hist = await b.request({
      command: Command.MP,
      body: codec.PullRequest.encode({
        since: 0,
        limit: 10,
        conversation: { type: ConversationType.CHATROOM, target: room },
        beforeUid: 0n,
      }),
    });
    expect(codec.PullResponse.decode(expectStatus(hist, Status.OK).body).messages).toEqual([]);
    expect(srv.server.offlinePushes().some((r) => r.conversation.type === ConversationType.CHATROOM)).toBe(
      false,
    );
  });

  it('sending without joining is FORBIDDEN; after CRQ one neither receives nor may send', async () => {
    const room = await createRoom();
    const [alice, bob] = [uniqueUser('alice'), uniqueUser('bob')];
    const a = await online(alice);
    const b = await online(bob);
    const refused = await sendMessage(b, toRoom(room, 'let me talk'));
    expectStatus(refused, Status.FORBIDDEN);
    expect(errorOf(refused).message).toMatch(/join/);

    expectStatus(await roomRequest(a, Command.CRJ, room), Status.OK);
    expectStatus(await roomRequest(b, Command.CRJ, room), Status.OK);
    await sendOk(a, toRoom(room, 'while in'));
    expect(text((await nextPush(b)).message)).toBe('while in');

    expectStatus(await roomRequest(b, Command.CRQ, room), Status.OK);
    expect(await members(room)).toBe(1);
    await sendOk(a, toRoom(room, 'after quit'));
    expect(await nothingPushed(b)).toBe(true);
    expectStatus(await sendMessage(b, toRoom(room, 'me again')), Status.FORBIDDEN);
  });

  it('a disconnect leaves the room', async () => {
    const room = await createRoom();
    const a = await online(uniqueUser('alice'));
    const b = await online(uniqueUser('bob'));
    expectStatus(await roomRequest(a, Command.CRJ, room), Status.OK);
    expectStatus(await roomRequest(b, Command.CRJ, room), Status.OK);
    expect(await members(room)).toBe(2);
    b.close();
    await b.closed;
    for (let i = 0; i < 50 && (await members(room)) !== 1; i++) await sleep(20);
    expect(await members(room)).toBe(1);
    await sendOk(a, toRoom(room, 'anyone left?'));
  });

  it('unknown and deleted rooms: CRJ, CRQ and sends are NOT_FOUND', async () => {
    const a = await online(uniqueUser('alice'));
    for (const command of [Command.CRJ, Command.CRQ]) {
      const res = await roomRequest(a, command, uniqueUser('no-room'));
      expectStatus(res, Status.NOT_FOUND);
      expect(errorOf(res).message).toMatch(/chatroom/);
    }
    expectStatus(await sendMessage(a, toRoom(uniqueUser('no-room'), 'x')), Status.NOT_FOUND);

    const room = await createRoom();
    const b = await online(uniqueUser('bob'));
    expectStatus(await roomRequest(a, Command.CRJ, room), Status.OK);
    expectStatus(await roomRequest(b, Command.CRJ, room), Status.OK);
    expect((await admin.call('DELETE', `/v1/chatrooms/${room}`)).status).toBe(204);
    expectStatus(await sendMessage(a, toRoom(room, 'still here?')), Status.NOT_FOUND);
    expect(await nothingPushed(b)).toBe(true);
    expectStatus(await roomRequest(b, Command.CRJ, room), Status.NOT_FOUND);
  });
});
