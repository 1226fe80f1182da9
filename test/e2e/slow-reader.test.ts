/**
 * protocol.md §6 Limits and abuse: a bound on each connection's unsent output — a client that
 * stops reading is disconnected, and its messages stay pullable.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Command, codec, Status } from '../../packages/protocol/src/index.js';
import { connectAs, expectStatus, nextPush, sendOk, textMessage, uniqueUser } from '../support/im.js';
import type { RawClient } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
const clients: RawClient[] = [];

async function online(userId: string, deviceId = 'd1') {
  const r = await connectAs(srv.port, await srv.identity(userId, deviceId));
  clients.push(r.c);
  return r.c;
}

beforeAll(async () => {
  // Large bodies are pushed as MPS (not announced with MN), so the backlog grows fast.
  // The sender's inbound byte rate is not what this tests: lift it above the traffic sent here.
  srv = await startTestServer({
    edge: {
      maxOutboundBytes: 1024 * 1024,
      rateBytesPerSecond: 256 * 1024 * 1024,
      rateBytesBurst: 256 * 1024 * 1024,
    },
    message: { pushMaxBodyBytes: 1024 * 1024 },
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await srv?.close();
});

it('a client that stops reading is disconnected; its messages stay pullable; others are unharmed', async () => {
  const bob = uniqueUser('slow-bob');
  const b = await online(bob);
  b.pauseReading();
  const a = await online(uniqueUser('alice'));
  const big = new Uint8Array(900 * 1024).fill(7);
  let acked = 0;
  // Past the kernel's socket buffers (a few MiB on loopback) the edge's own bound is hit.
  // A paused client cannot see the close, so watch the route (removed when the edge drops it).
  const routed = async () => (await srv.server.presence.devices(bob)).length > 0;
  for (let i = 0; i < 60 && (await routed()); i++) {
    await sendOk(a, textMessage(bob, '', { content: { data: big } }));
    acked++;
  }
  await expect.poll(routed).toBe(false);
  // Reading again, the client finds what was flushed before the cut, then the close.
  b.resumeReading();
  expect(await b.closedWithin(5000)).toBe(true);
  expect(b.received.filter((f) => f.command === Command.MPS).length).toBeLessThan(acked);

  const again = await online(bob, 'd2');
  const res = await again.request({
    command: Command.MP,
    body: codec.PullRequest.encode({ since: 0, limit: 1 }),
  });
  const page = codec.PullResponse.decode(expectStatus(res, Status.OK).body);
  expect(page.head).toBe(acked);
  expect(page.messages[0]?.messageContent?.data.length).toBe(big.length);

  // The sender and a fresh recipient are unaffected.
  const carol = uniqueUser('carol');
  const c = await online(carol);
  const ack = await sendOk(a, textMessage(carol, 'still here'));
  expect((await nextPush(c)).message.messageUid).toBe(ack.messageUid);
});
