/**
 * protocol.md §6 Guarantee: a device online when a message is acked, and still online, learns of it
 * without reconnecting — by MPS, or by MN when no push can come — within the route refresh period
 * (IM_ROUTE_REFRESH_MS) of the ack, or of the message service answering again (docs/protocol.md
 * §8.6). Each backend outage here leaves the recipient with NO later message that would reveal a
 * seq gap: only the fan-out's retries or the edges' head sync (services/edge/src/head-sync.ts) can
 * tell it. Redis and Kafka are this file's own servers, so stopping them disturbs no other file.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { uniqueUser } from '../support/im.js';
import { describeInfra } from '../support/infra.js';
import { sendUntilAcked, type TrackedClient, trackedClient } from './support/clients.js';
import { clusterLogDir, startTestCluster, type TestCluster } from './support/cluster.js';
import { type PrivateKafka, requireKafkaJars, startPrivateKafka } from './support/private-kafka.js';
import { type PrivateRedis, requireRedisServer, startPrivateRedis } from './support/private-redis.js';
import { tailFile } from './support/proc.js';

const REFRESH_MS = 1_000;
const DEADLINE_MS = 2_000;
/** Scheduling on a busy 2-core machine: an MN, its pull and the push of the pull's answer. */
const SLACK_MS = 2_000;

describeInfra('cluster: the delivery guarantee across backend outages', () => {
  let redis: PrivateRedis;
  let kafka: PrivateKafka;
  let c: TestCluster;
  const clients: TrackedClient[] = [];

  async function device(userId: string, edge: number): Promise<TrackedClient> {
    const t = await trackedClient(c.endpoints, c.jwtSecret, userId, 'd1', edge);
    clients.push(t);
    return t;
  }
  /** Resolves once `t` holds the message (pushed or pulled); the time it took since `from`. */
  async function learned(t: TrackedClient, uid: bigint, from: number, within: number): Promise<number> {
    await expect
      .poll(() => t.received.some((m) => m.messageUid === uid), {
        timeout: within + 10_000,
        message: `${t.userId} never learned of ${uid}`,
      })
      .toBe(true);
    const ms = Date.now() - from;
    expect(ms, `${t.userId} learned of it only after ${ms} ms`).toBeLessThan(within);
    expect(t.reconnects).toBe(0);
    return ms;
  }
  async function pair() {
    const a = await device(uniqueUser('alice'), 0);
    const b = await device(uniqueUser('bob'), 1);
    const warm = await sendUntilAcked(a, b.userId, 'warm-up', 20_000);
    await learned(b, warm.messageUid, Date.now(), 10_000);
    return { a, b };
  }

  beforeAll(async () => {
    // This file's own servers (it stops them); missing binaries fail with how to get them.
    await requireRedisServer();
    requireKafkaJars();
    [redis, kafka] = await Promise.all([
      startPrivateRedis(clusterLogDir('guarantee-redis')),
      startPrivateKafka(clusterLogDir('guarantee-kafka')),
    ]);
    c = await startTestCluster({
      label: 'guarantee',
      env: {
        REDIS_URL: redis.url,
        KAFKA_BROKERS: kafka.brokers,
        IM_ROUTE_REFRESH_MS: String(REFRESH_MS),
        IM_GRPC_DEADLINE_MS: String(DEADLINE_MS),
      },
    });
  }, 180_000);

  beforeEach((ctx) => {
    ctx.onTestFailed(async () => {
      const broker = kafka ? `\n==== kafka ====\n${await tailFile(kafka.logFile, 15)}` : '';
      console.error(`---- cluster logs ----\n${await c?.logTail()}${broker}`);
    });
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((t) => t.client.close()));
    for (const p of c?.cluster.all() ?? []) p.kill('SIGCONT');
    redis?.signal('SIGCONT');
    await c?.stop();
    await Promise.allSettled([redis?.destroy(), kafka?.destroy()]);
  }, 60_000);

  it('Redis FLUSHALL: the routes are gone when the message is acked; the recipient is told', async () => {
    const { a, b } = await pair();
    expect(await redis.command('FLUSHALL')).toMatch(/^\+OK/);
    const ack = await sendUntilAcked(a, b.userId, 'after the flush', 20_000);
    await learned(b, ack.messageUid, Date.now(), REFRESH_MS + SLACK_MS);
  }, 60_000);

  it('Redis down: the message is stored and acked; the recipient is told while Redis is still down', async () => {
    const { a, b } = await pair();
    await redis.stop();
    try {
      const ack = await sendUntilAcked(a, b.userId, 'while Redis is down', 20_000);
      await learned(b, ack.messageUid, Date.now(), REFRESH_MS + SLACK_MS);
    } finally {
      await redis.start();
    }
  }, 60_000);

  it('the message service SIGKILLed with the fan-out in hand: told once it is back', async () => {
    const { a, b } = await pair();
    // Redis frozen: the fan-out's routes read hangs, so the acked message is still in the message
    // service's hands when it dies — nothing of it was published.
    redis.signal('SIGSTOP');
    let ack: Awaited<ReturnType<typeof sendUntilAcked>>;
    try {
      ack = await sendUntilAcked(a, b.userId, 'the fan-out dies with its process', 20_000);
      c.cluster.message.kill('SIGKILL');
      await c.cluster.message.waitExit(5_000);
    } finally {
      redis.signal('SIGCONT');
    }
    await c.cluster.message.start();
    await learned(b, ack.messageUid, Date.now(), REFRESH_MS + SLACK_MS);
  }, 90_000);

  it('the Kafka broker down: the recipient is told without the bus', async () => {
    const { a, b } = await pair();
    await kafka.kill();
    const ack = await sendUntilAcked(a, b.userId, 'while Kafka is down', 20_000);
    await learned(b, ack.messageUid, Date.now(), REFRESH_MS + SLACK_MS);
  }, 60_000);
});
