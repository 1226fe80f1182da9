/**
 * im_kafka_consumer_lag against real Kafka: a node topic consumed by KafkaBus (the edge's own
 * subscription) whose handler is held, so the group's committed offset stays behind the topic's end.
 */
import { type Delivery, KafkaBus } from '@im/core';
import { createRegistry } from '@im/rpc';
import { logLevel } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { describeInfra, requireInfra, uniqueTopicPrefix } from '../../../test/support/infra.js';
import { KAFKA_LAG_ERRORS_METRIC, KAFKA_LAG_METRIC, registerKafkaLag } from '../src/kafka-lag.js';

describeInfra('edge: Kafka consumer lag on /metrics', () => {
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
  });

  it('counts the records the consumer has not finished, and 0 once it has', {
    timeout: 90_000,
  }, async () => {
    const { kafkaBrokers } = requireInfra();
    const nodeId = 'lag-edge';
    const bus = new KafkaBus({
      brokers: kafkaBrokers,
      topicPrefix: uniqueTopicPrefix('lag'),
      logLevel: logLevel.NOTHING,
      fetchMaxWaitMs: 200,
    });
    closers.push(() => bus.close());
    // While `held` is set, the handler waits for it: nothing after it is committed.
    let held: { done: Promise<void>; release: () => void } | null = null;
    let handled = 0;
    const sub = await bus.subscribe(nodeId, async (batch) => {
      if (held) await held.done;
      handled += batch.length;
    });
    closers.push(() => sub.close());

    const registry = createRegistry();
    const topic = bus.nodeTopic(nodeId);
    const lag = registerKafkaLag(registry, {
      brokers: kafkaBrokers,
      topic,
      groupId: topic,
      timeoutMs: 10_000,
    });
    closers.push(() => lag.close());
    const scrape = async () => (await registry.getSingleMetric(KAFKA_LAG_METRIC)?.get())?.values[0]?.value;
    const notify = (head: number): Delivery => ({ kind: 'notify', nodeId, userId: 'u', head });
    const poll = { timeout: 30_000, interval: 100 };

    // One delivery handled: the group has a committed offset at the topic's end.
    await bus.publish([notify(1)]);
    await expect.poll(() => handled, poll).toBe(1);
    await expect.poll(scrape, poll).toBe(0);

    let release!: () => void;
    held = { done: new Promise<void>((r) => (release = r)), release: () => release() };
    // Three fan-out batches: three records (a record holds everything one batch has for the node).
    for (const head of [2, 3, 4]) await bus.publish([notify(head)]);
    await expect.poll(scrape, poll).toBe(3);
    expect(await registry.metrics()).toMatch(new RegExp(`^${KAFKA_LAG_METRIC} 3$`, 'm'));

    held.release();
    held = null;
    await expect.poll(() => handled, poll).toBe(4);
    await expect.poll(scrape, poll).toBe(0);
    expect((await registry.getSingleMetric(KAFKA_LAG_ERRORS_METRIC)?.get())?.values[0]?.value).toBe(0);
  });

  it('keeps the last value and counts an error when Kafka does not answer in time', async () => {
    const registry = createRegistry();
    // Nothing listens there: the admin client cannot connect within the scrape's bound.
    const lag = registerKafkaLag(registry, {
      brokers: ['127.0.0.1:1'],
      topic: 't',
      groupId: 't',
      timeoutMs: 300,
    });
    closers.push(() => lag.close());
    expect(await lag.read()).toBe(0);
    expect((await registry.getSingleMetric(KAFKA_LAG_ERRORS_METRIC)?.get())?.values[0]?.value).toBe(1);
  });
});
