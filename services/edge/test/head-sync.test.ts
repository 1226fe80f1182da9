/**
 * protocol.md §6 Guarantee at the edge (head-sync.ts): a connection that is behind its user's inbox
 * head for a whole round — a push that never came — gets MN { head }; one whose push is merely in
 * flight does not; a client already told (SendAck, MPS, MN, LOGIN) gets nothing. A seq learnt
 * only from a later seq's gap, or from a pull, was not told.
 */
import { encodeForDelivery, loadConfig } from '@im/core';
import { Command, codec, emptyContent, type Frame, Status } from '@im/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../../../test/support/raw-client.js';
import { createEdge, type Edge } from '../src/index.js';
import { FakeBus, FakeMessages, FakePresence, fakeVerifier } from './fakes.js';

const NODE = 'edge-hs';
const opened: { edge: Edge; clients: RawClient[] }[] = [];

afterEach(async () => {
  for (const { edge, clients } of opened.splice(0)) {
    for (const c of clients) c.close();
    await edge.close();
  }
});

async function start() {
  // The timer of the head sync (half the route refresh) never fires here: rounds are run by hand.
  const config = loadConfig(
    {},
    { nodeId: NODE, edge: { host: '127.0.0.1', port: 0, routeRefreshMs: 3_600_000 } },
  );
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
  opened.push({ edge, clients });
  const login = async (userId: string, deviceId: string) => {
    const c = await RawClient.connect(port);
    clients.push(c);
    const res = await c.request({
      command: Command.LOGIN,
      body: codec.LoginRequest.encode({ userId, deviceId, token: `ok:${userId}` }),
    });
    expect(res.status).toBe(Status.OK); // FakeMessages.head(): 7
    return c;
  };
  return { edge, bus, messages, login };
}

/** MN frames received so far, after a PING round trip. */
async function mns(c: RawClient): Promise<number[]> {
  expect((await c.request({ command: Command.PING })).status).toBe(Status.OK);
  return c.pending((f: Frame) => f.command === Command.MN).map((f) => codec.Notify.decode(f.body).head);
}

function delivered(uid: bigint, to: string) {
  return encodeForDelivery({
    uid,
    messageId: uid,
    from: 'alice',
    fromDevice: 'a1',
    to,
    conversation: { type: 0, target: to },
    content: emptyContent(1),
    serverTime: 1,
    e2e: false,
  });
}

describe('edge head sync (protocol.md §6 Guarantee)', () => {
  it('a connection behind its head for a whole round gets MN { head } once', async () => {
    const h = await start();
    const phone = await h.login('bob', 'phone');
    const laptop = await h.login('bob', 'laptop');
    h.messages.headsOf.set('bob', 9); // two messages acked whose pushes never came
    expect(await h.edge.syncHeads()).toBe(0); // first sight: maybe in flight
    expect(await h.edge.syncHeads()).toBe(2); // still behind a round later: MN to both devices
    expect(await mns(phone)).toEqual([9]);
    expect(await mns(laptop)).toEqual([9]);
    expect(await h.edge.syncHeads()).toBe(0); // told now
    expect(await h.edge.syncHeads()).toBe(0);
    expect(h.messages.headsCalls).toBe(4);
  });

  it('a push that arrives before the next round settles it: no MN', async () => {
    const h = await start();
    const c = await h.login('bob', 'phone');
    h.messages.headsOf.set('bob', 8);
    expect(await h.edge.syncHeads()).toBe(0);
    const message = encodeForDelivery({
      uid: 5n,
      messageId: 1n,
      from: 'alice',
      fromDevice: 'a1',
      to: 'bob',
      conversation: { type: 0, target: 'bob' },
      content: emptyContent(1),
      serverTime: 1,
      e2e: false,
    });
    await h.bus.deliver([{ kind: 'message', nodeId: NODE, userId: 'bob', message, seq: 8 }]);
    expect((await c.next((f) => f.command === Command.MPS)).command).toBe(Command.MPS);
    expect(await h.edge.syncHeads()).toBe(0);
    expect(await mns(c)).toEqual([]);
  });

  it('a later push does not cover a lost one, nor does a pull: MN once the gap outlives a round', async () => {
    // protocol.md §6 Guarantee (issue 10): learning of seq 8 only from seq 9's gap is not being told.
    const h = await start();
    const c = await h.login('dave', 'phone'); // LoginResponse.head 7
    const push = (uid: bigint, seq: number) =>
      h.bus.deliver([
        { kind: 'message', nodeId: NODE, userId: 'dave', message: delivered(uid, 'dave'), seq },
      ]);
    h.messages.headsOf.set('dave', 9);
    await push(9n, 9); // seq 8's push never comes
    expect((await c.next((f) => f.command === Command.MPS)).command).toBe(Command.MPS);
    // The client pulls by itself (the gap): what the pull answers is not the server telling it.
    h.messages.pullImpl = async () => ({ messages: [], head: 9, hasMore: false });
    expect(
      (await c.request({ command: Command.MP, body: codec.PullRequest.encode({ since: 7 }) })).status,
    ).toBe(Status.OK);
    expect(await h.edge.syncHeads()).toBe(0);
    expect(await h.edge.syncHeads()).toBe(1);
    expect(await mns(c)).toEqual([9]);
    // Pushes out of order (11 before 10) are contiguous once both came: nothing to tell.
    h.messages.headsOf.set('dave', 11);
    await push(11n, 11);
    await push(10n, 10);
    await c.next((f) => f.command === Command.MPS && codec.Message.decode(f.body).seq === 10);
    expect(await h.edge.syncHeads()).toBe(0);
    expect(await h.edge.syncHeads()).toBe(0);
    expect(await mns(c)).toEqual([9]); // still only the one
  });

  it('what the client was told by LOGIN or a SendAck counts; heads unavailable skips the round', async () => {
    const h = await start();
    const c = await h.login('carol', 'd1'); // LoginResponse.head 7
    h.messages.headsOf.set('carol', 7);
    expect(await h.edge.syncHeads()).toBe(0);
    expect(await h.edge.syncHeads()).toBe(0);
    // A send acked at seq 8 (FakeMessages answers seq 1 by default).
    h.messages.sendImpl = async () => ({ messageUid: 1n, serverTime: 1, seq: 8 });
    const ack = await c.request({
      command: Command.MS,
      body: codec.Message.encode({ conversation: { type: 0, target: 'x' } }),
    });
    expect(ack.status).toBe(Status.OK);
    h.messages.headsOf.set('carol', 8);
    expect(await h.edge.syncHeads()).toBe(0);
    expect(await h.edge.syncHeads()).toBe(0);
    // The message service down: the round is skipped, what was seen carries over.
    h.messages.headsOf.set('carol', 14);
    expect(await h.edge.syncHeads()).toBe(0);
    const heads = h.messages.heads.bind(h.messages);
    h.messages.heads = async () => {
      throw new Error('UNAVAILABLE');
    };
    expect(await h.edge.syncHeads()).toBe(0);
    h.messages.heads = heads;
    expect(await h.edge.syncHeads()).toBe(1);
    expect(await mns(c)).toEqual([14]);
  });
});
