/**
 * The edge's part of protocol.md §6 Chatrooms, over real TCP with fake services: one room delivery
 * per node fanned out to the local members (not to the sending connection, not to non-members),
 * CRQ and disconnect leave, and the node's rooms are refreshed with its routes.
 */
import { type Delivery, encodeForDelivery, loadConfig, membershipLost, type StoredMessage } from '@im/core';
import { Command, codec, Status } from '@im/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../../../test/support/raw-client.js';
import { createEdge, type Edge } from '../src/index.js';
import { LocalRooms } from '../src/rooms.js';
import { FakeBus, FakeMessages, FakePresence, fakeVerifier } from './fakes.js';

const NODE = 'edge-rooms';
const running: { edge: Edge; clients: RawClient[] }[] = [];

afterEach(async () => {
  for (const { edge, clients } of running.splice(0)) {
    for (const c of clients) c.close();
    await edge.close();
  }
});

async function start(routeRefreshMs = 20_000) {
  const config = loadConfig({}, { nodeId: NODE, edge: { host: '127.0.0.1', port: 0, routeRefreshMs } });
  const bus = new FakeBus();
  const messages = new FakeMessages();
  const edge = createEdge({
    config,
    nodeId: NODE,
    message: messages,
    presence: new FakePresence(),
    bus,
    verifier: fakeVerifier,
    logger: pino({ level: 'silent' }),
  });
  const { port } = await edge.listen();
  const clients: RawClient[] = [];
  running.push({ edge, clients });
  const member = async (userId: string, deviceId: string, rooms: string[]) => {
    const c = await RawClient.connect(port);
    clients.push(c);
    const login = await c.request({
      command: Command.LOGIN,
      body: codec.LoginRequest.encode({ userId, deviceId, token: `ok:${userId}` }),
    });
    expect(login.status).toBe(Status.OK);
    for (const chatroomId of rooms) {
      const res = await c.request({
        command: Command.CRJ,
        body: codec.ChatroomRequest.encode({ chatroomId }),
      });
      expect(res.status).toBe(Status.OK);
    }
    return c;
  };
  return { edge, bus, messages, member };
}

function roomMessage(uid: bigint, from: string, fromDevice: string, room: string): StoredMessage {
  return {
    uid,
    messageId: uid,
    from,
    fromDevice,
    to: '',
    conversation: { type: 2, target: room },
    content: {
      contentType: 1,
      searchableContent: '',
      pushContent: '',
      data: new TextEncoder().encode(`m${uid}`),
      mentionedType: 0,
      mentionedTargets: [],
      mediaType: 0,
      msgLength: 0,
      remoteMediaUrl: '',
      localMediaPath: '',
    },
    serverTime: 1,
    e2e: false,
  };
}

const roomDelivery = (room: string, message: StoredMessage): Delivery => ({
  kind: 'room',
  nodeId: NODE,
  roomId: room,
  message: encodeForDelivery(message),
});

/** MPS frames received so far by c, after a PING round trip. */
async function pushes(c: RawClient): Promise<bigint[]> {
  expect((await c.request({ command: Command.PING })).status).toBe(Status.OK);
  return c.pending((f) => f.command === Command.MPS).map((f) => codec.Message.decode(f.body).messageUid);
}

describe('edge: chatroom deliveries (one per node, fanned out locally)', () => {
  it('reaches every local member connection but the sending one, with seq 0', async () => {
    const h = await start();
    const alice = await h.member('alice', 'a1', ['live']);
    const aliceTablet = await h.member('alice', 'a2', ['live']);
    const bob = await h.member('bob', 'b1', ['live', 'other']);
    const carol = await h.member('carol', 'c1', ['other']);
    await h.bus.deliver([roomDelivery('live', roomMessage(7n, 'alice', 'a1', 'live'))]);
    const frame = await bob.next((f) => f.command === Command.MPS);
    const m = codec.Message.decode(frame.body);
    expect([m.messageUid, m.seq, m.from, m.conversation]).toEqual([
      7n,
      0,
      'alice',
      { type: 2, target: 'live' },
    ]);
    expect(await pushes(aliceTablet)).toEqual([7n]);
    expect(await pushes(alice)).toEqual([]);
    expect(await pushes(carol)).toEqual([]);
  });

  it('CRQ and disconnect leave: no more deliveries, and the service is told', async () => {
    const h = await start();
    const bob = await h.member('bob', 'b1', ['live']);
    const dave = await h.member('dave', 'd1', ['live']);
    const quit = await bob.request({
      command: Command.CRQ,
      body: codec.ChatroomRequest.encode({ chatroomId: 'live' }),
    });
    expect(quit.status).toBe(Status.OK);
    dave.close();
    await dave.closed;
    await expect.poll(() => h.messages.quits.length).toBe(2);
    expect(h.messages.quits).toEqual(['live', 'live']);
    await h.bus.deliver([roomDelivery('live', roomMessage(8n, 'x', 'x1', 'live'))]);
    expect(await pushes(bob)).toEqual([]);
  });

  it("sends the node's rooms with its route refresh; a room left by its last member is not", async () => {
    const h = await start(40);
    const bob = await h.member('bob', 'b1', ['live', 'quiet']);
    await h.member('erin', 'e1', ['live']);
    await bob.request({ command: Command.CRQ, body: codec.ChatroomRequest.encode({ chatroomId: 'quiet' }) });
    const before = h.messages.chatroomHeartbeats.length;
    await expect.poll(() => h.messages.chatroomHeartbeats.length).toBeGreaterThan(before);
    const last = h.messages.chatroomHeartbeats.at(-1);
    expect(last).toEqual({ nodeId: NODE, chatroomIds: ['live'] });
  });
});

describe('chatroom membership lost in the registry (Redis FLUSHALL, restart)', () => {
  it('the edge joins its members again; a room deleted meanwhile is dropped locally', async () => {
    const h = await start(40);
    const bob = await h.member('bob', 'b1', ['live', 'gone']);
    await h.member('erin', 'e1', ['live']);
    h.messages.deletedRooms.add('gone');
    h.messages.joinsBy.length = 0;
    // What the message service answers when the registry no longer has this node's rooms.
    h.messages.heartbeatError = membershipLost(['live', 'gone']);
    await expect.poll(() => [...h.messages.joinsBy].sort()).toEqual(['bob:live', 'erin:live']);
    // 'gone' is NOT_FOUND on the join: no longer held here, no longer refreshed.
    const seen = h.messages.chatroomHeartbeats.length;
    await expect.poll(() => h.messages.chatroomHeartbeats.length).toBeGreaterThan(seen + 1);
    expect(h.messages.chatroomHeartbeats.at(-1)).toEqual({ nodeId: NODE, chatroomIds: ['live'] });
    // Delivery to the rebuilt room goes on.
    await h.bus.deliver([roomDelivery('live', roomMessage(9n, 'x', 'x1', 'live'))]);
    expect(await pushes(bob)).toEqual([9n]);
  });
});

describe('LocalRooms', () => {
  it('adds, removes, lists members and the rooms that have any', () => {
    const rooms = new LocalRooms<string>();
    rooms.add('r1', 'a');
    rooms.add('r1', 'b');
    rooms.add('r2', 'a');
    expect(rooms.members('r1')).toEqual(['a', 'b']);
    expect(rooms.remove('r1', 'a')).toBe(true);
    expect(rooms.remove('r1', 'a')).toBe(false);
    expect(rooms.remove('r2', 'a')).toBe(true);
    expect(rooms.ids()).toEqual(['r1']);
    expect(rooms.members('r2')).toEqual([]);
    expect(rooms.size).toBe(1);
  });
});
