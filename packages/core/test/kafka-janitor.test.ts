/**
 * The janitor of gone edge nodes' Kafka topics (bus/kafka-janitor.ts, issue 10 item 2) on the real
 * Kafka and Redis: edges with fresh ids come and go (a rollout), and the node topics stay bounded
 * by the live edges plus those gone for less than the grace; a live edge's topic is never touched;
 * only one janitor acts (Redis lock). Time is passed to pass(now), so the grace costs no waiting.
 */
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeInfra,
  requireInfra,
  uniqueKeyPrefix,
  uniqueTopicPrefix,
} from '../../../test/support/infra.js';
import { KafkaBus } from '../src/bus/bus.kafka.js';
import { KafkaJanitor } from '../src/bus/kafka-janitor.js';
import type { Delivery, Subscription } from '../src/ports.js';
import { waitFor } from './support.js';

const GRACE_MS = 60_000;

describeInfra('KafkaJanitor (real Kafka and Redis)', () => {
  const topicPrefix = uniqueTopicPrefix('janitor');
  const lockKey = `${uniqueKeyPrefix('janitor')}lock`;
  let infra: ReturnType<typeof requireInfra>;
  let kafka: Kafka;
  const janitors: KafkaJanitor[] = [];
  const edges = new Map<string, { bus: KafkaBus; sub: Subscription; got: Delivery[] }>();

  const janitor = (holder: string) => {
    const j = new KafkaJanitor({
      brokers: infra.kafkaBrokers,
      topicPrefix,
      redis: infra.redisUrl,
      lockKey,
      holder,
      graceMs: GRACE_MS,
      minGraceMs: 30_000,
      intervalMs: 10_000,
      logger: pino({ level: 'silent' }),
    });
    janitors.push(j);
    return j;
  };
  /** An edge node: its bus subscription creates its topic and joins its group (bus.kafka.ts). */
  const startEdge = async (nodeId: string) => {
    const bus = new KafkaBus({
      brokers: infra.kafkaBrokers,
      topicPrefix,
      logLevel: logLevel.NOTHING,
      fetchMaxWaitMs: 200,
    });
    const got: Delivery[] = [];
    const sub = await bus.subscribe(nodeId, async (batch) => {
      got.push(...batch);
    });
    edges.set(nodeId, { bus, sub, got });
  };
  const stopEdge = async (nodeId: string) => {
    const e = edges.get(nodeId);
    edges.delete(nodeId);
    await e?.sub.close();
    await e?.bus.close();
  };
  const nodeTopics = async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.listTopics()).filter((t) => t.startsWith(`${topicPrefix}deliver.`)).sort();
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(() => {
    infra = requireInfra();
    kafka = new Kafka({ clientId: 'janitor-test', brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING });
  });

  afterAll(async () => {
    await Promise.allSettled(janitors.map((j) => j.stop()));
    await Promise.allSettled([...edges.keys()].map(stopEdge));
    const admin = kafka.admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => {});
    await admin.disconnect();
  }, 60_000);

  it('rolling out edges with fresh ids: topics stay bounded by the live edges plus the grace', async () => {
    const j = janitor('presence-a');
    const other = janitor('presence-b');
    // The offline-push topic and other prefixes are never the janitor's business.
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: `${topicPrefix}offline-push` }], waitForLeaders: true });
    await admin.disconnect();

    let now = 1_000_000;
    await startEdge('e0');
    expect(await j.pass(now)).toEqual({ leader: true, topics: 1, deleted: [] });
    // One janitor acts at a time: the other sees the lock held.
    expect((await other.pass(now)).leader).toBe(false);

    // Five rollouts, each replacing the one edge by an edge with a fresh id, half a grace apart.
    const deleted: string[] = [];
    for (let i = 1; i <= 5; i++) {
      await startEdge(`e${i}`);
      await stopEdge(`e${i - 1}`);
      now += GRACE_MS / 2;
      const pass = await j.pass(now);
      deleted.push(...pass.deleted);
      const topics = await nodeTopics();
      // Live: e<i>. Gone within the grace: at most the two before it.
      expect(topics.length, topics.join(', ')).toBeLessThanOrEqual(3);
      expect(topics).toContain(`${topicPrefix}deliver.e${i}`);
    }
    expect(deleted.length).toBeGreaterThanOrEqual(3);
    now += GRACE_MS;
    await j.pass(now); // e4 is now past its grace
    expect(await nodeTopics()).toEqual([`${topicPrefix}deliver.e5`]);

    // The live edge's topic and group are intact: a delivery still reaches it.
    const live = edges.get('e5');
    const publisher = new KafkaBus({ brokers: infra.kafkaBrokers, topicPrefix, logLevel: logLevel.NOTHING });
    await publisher.publish([{ kind: 'notify', nodeId: 'e5', userId: 'u', head: 1 }]);
    await publisher.close();
    await waitFor(async () => (live?.got.length ?? 0) === 1, 20_000);

    const admin2 = kafka.admin();
    await admin2.connect();
    expect(await admin2.listTopics()).toContain(`${topicPrefix}offline-push`);
    await admin2.disconnect();
  }, 120_000);

  it('refuses a grace shorter than the route TTL', () => {
    expect(
      () =>
        new KafkaJanitor({
          brokers: ['127.0.0.1:1'],
          topicPrefix,
          redis: 'redis://127.0.0.1:1',
          lockKey,
          holder: 'x',
          graceMs: 1_000,
          minGraceMs: 90_000,
          intervalMs: 1_000,
          logger: pino({ level: 'silent' }),
        }),
    ).toThrow(/must be at least the route TTL \(90000\)/);
  });
});
