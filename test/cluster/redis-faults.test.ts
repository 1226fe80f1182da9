/**
 * Issue 3 "Bad input and faults" for Redis (the route table): FLUSHALL during traffic, and Redis
 * down for a moment. Acked messages must still land in every inbox (they live in PostgreSQL), and
 * live pushes must resume once the routes are back — through the edges' periodic route refresh,
 * without the clients reconnecting (protocol.md §6 Heartbeat, Delivery, Guarantee).
 *
 * Which Redis: FLUSHALL wipes every key of a server, and the other test files share the test Redis
 * (REDIS_URL), so this file starts its own `redis-server --port <free> --save ''`, always — also
 * when the shared backends come from URLs (test/infra/start.sh installs redis-server either way).
 * Without redis-server the file fails with the how-to: it never skips.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { signDevToken } from '../../packages/core/src/index.js';
import { Command, codec, Status } from '../../packages/protocol/src/index.js';
import { loginBody, sleep, uniqueUser } from '../support/im.js';
import { describeInfra } from '../support/infra.js';
import { RawClient } from '../support/raw-client.js';
import {
  inboxProblems,
  pullAll,
  sendUntilAcked,
  type TrackedClient,
  trackedClient,
} from './support/clients.js';
import { clusterLogDir, startTestCluster, type TestCluster } from './support/cluster.js';
import { type PrivateRedis, requireRedisServer, startPrivateRedis } from './support/private-redis.js';

const REFRESH_MS = 400;
const GRPC_DEADLINE_MS = 2_000;
const DELIVERY_MS = 10_000;

describeInfra('cluster: Redis wiped or down', () => {
  let redis: PrivateRedis;
  let c: TestCluster;
  const clients: TrackedClient[] = [];
  /** uid → [from, to] of every acked message of this file. */
  const acked = new Map<bigint, [string, string]>();

  async function device(userId: string, edge: number): Promise<TrackedClient> {
    const t = await trackedClient(c.endpoints, c.jwtSecret, userId, 'd1', edge);
    clients.push(t);
    return t;
  }
  const uids = (t: TrackedClient) => t.received.map((m) => m.messageUid);
  async function send(from: TrackedClient, to: TrackedClient, text: string) {
    const ack = await sendUntilAcked(from, to.userId, text, 20_000);
    acked.set(ack.messageUid, [from.userId, to.userId]);
    return ack;
  }
  /** Every acked message for t's user reached t (by push or by its gap pull); none twice. */
  async function expectAllDelivered(t: TrackedClient) {
    const want = [...acked].filter(([, [, to]]) => to === t.userId).map(([uid]) => uid);
    await expect
      .poll(() => want.filter((u) => !uids(t).includes(u)).length, {
        timeout: DELIVERY_MS,
        message: `${t.userId} is missing acked messages`,
      })
      .toBe(0);
    expect(new Set(uids(t)).size).toBe(t.received.length);
  }
  async function expectInboxesComplete(ts: TrackedClient[]) {
    const problems: string[] = [];
    for (const t of ts) {
      const mine = [...acked].filter(([, [f, to]]) => f === t.userId || to === t.userId).map(([u]) => u);
      const inbox = await pullAll(t.client);
      problems.push(...inboxProblems(t.userId, inbox, mine));
      expect(inbox.head).toBe(mine.length);
    }
    expect(problems).toEqual([]);
  }
  async function routesBack(ts: TrackedClient[]) {
    await expect
      .poll(async () => (await Promise.all(ts.map((t) => c.routes(t.userId)))).every((r) => r.length === 1), {
        timeout: 20 * REFRESH_MS,
        message: 'routes did not come back through the edges’ refresh',
      })
      .toBe(true);
  }

  beforeAll(async () => {
    await requireRedisServer();
    redis = await startPrivateRedis(clusterLogDir('private-redis'));
    c = await startTestCluster({
      label: 'redis',
      env: {
        REDIS_URL: redis.url,
        IM_ROUTE_REFRESH_MS: String(REFRESH_MS),
        IM_GRPC_DEADLINE_MS: String(GRPC_DEADLINE_MS),
      },
    });
  });

  beforeEach((ctx) => {
    ctx.onTestFailed(async () => console.error(`---- cluster logs ----\n${await c?.logTail()}`));
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((t) => t.client.close()));
    await c?.stop();
    await redis?.destroy();
  });

  it(`FLUSHALL during traffic: acked messages land in the inboxes; pushes resume when the routes come back`, async () => {
    const a = await device(uniqueUser('alice'), 0);
    const b = await device(uniqueUser('bob'), 1);
    let flushed = false;
    const loop = async (from: TrackedClient, to: TrackedClient, n: number) => {
      for (let i = 0; i < n; i++) {
        await send(from, to, `${from.userId}#${i}`);
        if (acked.size >= 20 && !flushed) {
          flushed = true;
          expect(await redis.command('FLUSHALL')).toMatch(/^\+OK/);
        }
        await sleep(20);
      }
    };
    await Promise.all([loop(a, b, 30), loop(b, a, 30)]);
    expect(flushed).toBe(true);

    // The routes vanished with the flush; the edges' next refresh must put them back.
    await routesBack([a, b]);
    const after = await send(a, b, 'after the flush');
    await expect.poll(() => uids(b).includes(after.messageUid), { timeout: DELIVERY_MS }).toBe(true);
    // Live again without a reconnect: the route came back, not the client.
    expect([a.reconnects, b.reconnects]).toEqual([0, 0]);
    for (const t of [a, b]) await expectAllDelivered(t);
    await expectInboxesComplete([a, b]);

    // A login after the flush gets an epoch no live connection holds: kicking works as before.
    const b2 = await device(b.userId, 0);
    await expect.poll(() => b.kicked, { timeout: DELIVERY_MS }).toBe(true);
    const last = await send(a, b2, 'to the new connection');
    await expect.poll(() => uids(b2).includes(last.messageUid), { timeout: DELIVERY_MS }).toBe(true);
  }, 60_000);

  it('FLUSHALL: chatroom members keep receiving and may still send (the edges join them again)', async () => {
    // protocol.md §6 Chatrooms: membership lives in Redis per edge node; after a wipe each edge
    // hears it on its next room refresh and joins its members again (services/edge/src/edge.ts).
    const admin = c.cluster.admin;
    if (!admin) throw new Error('the cluster has no admin service');
    const room = uniqueUser('room');
    const created = await fetch(`http://127.0.0.1:${admin.port}/v1/chatrooms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.cluster.adminSecret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ chatroomId: room }),
    });
    expect(created.status).toBe(201);
    const a = await device(uniqueUser('alice'), 0);
    const b = await device(uniqueUser('bob'), 1);
    await a.client.joinChatroom(room);
    await b.client.joinChatroom(room);
    const say = (from: TrackedClient, text: string) =>
      from.client
        .send({
          conversation: { type: 2, target: room },
          content: { contentType: 1, data: new TextEncoder().encode(text), searchableContent: text },
        })
        .then(
          (ack) => ack.messageUid,
          (err: { statusName?: string }) => err.statusName ?? String(err),
        );
    const before = await say(a, 'before the flush');
    await expect.poll(() => uids(b).includes(before as bigint), { timeout: DELIVERY_MS }).toBe(true);

    expect(await redis.command('FLUSHALL')).toMatch(/^\+OK/);
    // Until an edge's next room refresh its members are gone from the room: their sends are
    // FORBIDDEN and room messages (online-only) miss them. Each edge then joins its members again;
    // once both members may send, both edges have rebuilt, and the room works both ways.
    for (const member of [b, a]) {
      await expect
        .poll(async () => typeof (await say(member, 'probing after the flush')), {
          timeout: 20 * REFRESH_MS + GRPC_DEADLINE_MS,
          interval: REFRESH_MS / 2,
          message: `${member.userId} could not send to the room again`,
        })
        .toBe('bigint');
    }
    const after = await say(b, 'after the flush');
    expect(typeof after).toBe('bigint');
    await expect.poll(() => uids(a).includes(after as bigint), { timeout: DELIVERY_MS }).toBe(true);
    const back = await say(a, 'and back');
    expect(typeof back).toBe('bigint');
    await expect.poll(() => uids(b).includes(back as bigint), { timeout: DELIVERY_MS }).toBe(true);
    expect([a.reconnects, b.reconnects]).toEqual([0, 0]);
  }, 60_000);

  it('Redis down for a moment: sends are still stored and acked; a LOGIN is UNAVAILABLE in time; pushes resume after', async () => {
    const a = await device(uniqueUser('alice'), 0);
    const b = await device(uniqueUser('bob'), 1);
    await send(a, b, 'before');
    await expect.poll(() => uids(b).length, { timeout: DELIVERY_MS }).toBe(1);

    await redis.stop();
    const started = Date.now();
    const during = await send(a, b, 'while Redis is down');
    expect(Date.now() - started).toBeLessThan(GRPC_DEADLINE_MS + 1_000);
    await send(b, a, 'the other way, while Redis is down');

    // protocol.md §3 UNAVAILABLE: the route cannot be registered; an answer within the deadline, not a hang.
    const raw = await RawClient.connect(c.endpoints[1]?.port ?? 0);
    const t0 = Date.now();
    const userId = uniqueUser('late');
    const id = { userId, deviceId: 'd1', token: await signDevToken(c.jwtSecret, userId, 600) };
    const res = await raw.request({ command: Command.LOGIN, body: loginBody(id) }, GRPC_DEADLINE_MS + 5_000);
    raw.close();
    expect(res.status, codec.ErrorInfo.decode(res.body).message).toBe(Status.UNAVAILABLE);
    expect(Date.now() - t0).toBeLessThan(GRPC_DEADLINE_MS + 1_500);

    await redis.start(); // empty, like after FLUSHALL
    await routesBack([a, b]);
    const after = await send(a, b, 'after Redis came back');
    await expect.poll(() => uids(b).includes(after.messageUid), { timeout: DELIVERY_MS }).toBe(true);
    expect(uids(b)).toContain(during.messageUid);
    expect([a.reconnects, b.reconnects]).toEqual([0, 0]);
    for (const t of [a, b]) await expectAllDelivered(t);
    await expectInboxesComplete([a, b]);
  }, 60_000);
});
