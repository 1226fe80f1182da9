import { type Admin, type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeInfra, requireInfra, uniqueTopicPrefix } from '../../../test/support/infra.js';
import { decodeDelivery, encodeDelivery, KafkaBus, type KafkaBusOptions } from '../src/bus/bus.kafka.js';
import type { Delivery, OfflinePush } from '../src/ports.js';
import { deliveryBusContract } from './contracts/bus.contract.js';
import { content, group, single, sleep, stored, unique, waitFor } from './support.js';

/** Reads the documented offline-push JSON back, checking each field's JSON type on the way. */
function parseOfflinePush(json: string): OfflinePush {
  const o = JSON.parse(json);
  expect(Object.keys(o).sort()).toEqual([
    'conversation',
    'from',
    'mentioned',
    'messageUid',
    'pushContent',
    'userId',
  ]);
  expect(typeof o.messageUid).toBe('string');
  expect(typeof o.mentioned).toBe('boolean');
  return { ...o, messageUid: BigInt(o.messageUid) };
}

describe('KafkaBus wire format', () => {
  it('round-trips every delivery kind, uint64 extremes and bytes', () => {
    const message = stored({
      uid: 2n ** 64n - 1n,
      messageId: 0n,
      from: 'a',
      conversation: group('g'),
      content: content({ data: new Uint8Array([0, 255, 128]), mentionedTargets: ['x', 'y'] }),
    });
    const all: Delivery[] = [
      { kind: 'message', nodeId: 'n', userId: 'u', message, seq: 2 ** 40, excludeDeviceId: 'd' },
      { kind: 'notify', nodeId: 'n', userId: 'u', head: 3 },
      { kind: 'kick', nodeId: 'n', userId: 'u', deviceId: 'd', epoch: 12 },
      { kind: 'room', nodeId: 'n', roomId: 'live', message },
    ];
    for (const d of all) expect(decodeDelivery(encodeDelivery(d))).toEqual(d);
    expect(JSON.parse(encodeDelivery(all[0] as Delivery)).message.uid).toBe('18446744073709551615');
  });

  it('refuses unknown versions and kinds', () => {
    expect(() => decodeDelivery('{"v":2,"kind":"notify"}')).toThrow(/version/);
    expect(() => decodeDelivery('{"v":1,"kind":"nope"}')).toThrow(/kind/);
  });
});

describeInfra('KafkaBus (real Kafka)', () => {
  // Topic prefixes used here; their topics are deleted at the end (for a long-lived broker).
  const used: string[] = [];
  const topicPrefix = (label: string) => {
    const p = uniqueTopicPrefix(label);
    used.push(p);
    return p;
  };
  const quiet: Partial<KafkaBusOptions> = { logLevel: logLevel.NOTHING, fetchMaxWaitMs: 200 };

  deliveryBusContract('kafka', async () => {
    const { kafkaBrokers } = requireInfra();
    const bus = new KafkaBus({ brokers: kafkaBrokers, topicPrefix: topicPrefix('bus'), ...quiet });
    // The external push service's view: a consumer of the offline-push topic from its start.
    const kafka = new Kafka({ brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
    let reader: Consumer | null = null;
    const seen: OfflinePush[] = [];
    return {
      bus,
      offlinePushes: async (prefix) => {
        if (!reader) {
          reader = kafka.consumer({ groupId: unique('push-reader'), maxWaitTimeInMs: 200 });
          await reader.connect();
          await reader.subscribe({ topic: bus.offlinePushTopic, fromBeginning: true });
          await reader.run({
            eachMessage: async ({ message }) => {
              const record = parseOfflinePush(message.value?.toString() ?? '');
              expect(message.key?.toString()).toBe(record.userId);
              seen.push(record);
            },
          });
        }
        return seen.filter((r) => r.userId.startsWith(prefix));
      },
      close: async () => {
        await reader?.disconnect();
        await bus.close();
      },
    };
  });

  let admin: Admin;
  const buses: KafkaBus[] = [];
  const open = (topicPrefix: string, extra: Partial<KafkaBusOptions> = {}) => {
    const bus = new KafkaBus({ brokers: requireInfra().kafkaBrokers, topicPrefix, ...quiet, ...extra });
    buses.push(bus);
    return bus;
  };
  beforeAll(async () => {
    admin = new Kafka({ brokers: requireInfra().kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    if (!admin) return;
    const mine = (await admin.listTopics()).filter((t) => used.some((p) => t.startsWith(p)));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    await admin.disconnect();
  });

  const notify = (nodeId: string, head: number): Delivery => ({ kind: 'notify', nodeId, userId: 'u', head });
  const heads = (got: Delivery[]) => got.map((d) => (d.kind === 'notify' ? d.head : -1));
  const committed = async (groupId: string, topic: string) => {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Number(t?.partitions[0]?.offset ?? -1);
  };

  it('uses one topic per edge node, named <prefix>deliver.<nodeId>', async () => {
    const prefix = topicPrefix('names');
    const bus = open(prefix);
    const sub = await bus.subscribe('edge-7', async () => {});
    const topics = await admin.listTopics();
    expect(topics).toContain(`${prefix}deliver.edge-7`);
    expect(bus.nodeTopic('edge-7')).toBe(`${prefix}deliver.edge-7`);
    expect(() => bus.nodeTopic('bad node/id')).toThrow(/topic name/);
    await sub.close();
  });

  it('starts a new node at the end of its topic: nothing published before subscribe replays', async () => {
    const bus = open(topicPrefix('fresh'));
    await bus.publish([notify('n1', 1)]);
    const got: Delivery[] = [];
    const sub = await bus.subscribe('n1', async (b) => {
      got.push(...b);
    });
    await bus.publish([notify('n1', 2)]);
    await waitFor(() => got.length > 0, 10_000, 'delivery');
    await sleep(300);
    expect(heads(got)).toEqual([2]);
    await sub.close();
  });

  it('commits an offset only after the handler resolved, and a restarted node resumes there', async () => {
    const prefix = topicPrefix('commit');
    const bus = open(prefix);
    const topic = bus.nodeTopic('n1');
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const got: Delivery[] = [];
    const sub = await bus.subscribe('n1', async (b) => {
      got.push(...b);
      await gate;
    });
    await bus.publish([notify('n1', 1)]);
    await waitFor(() => got.length === 1, 10_000, 'delivery');
    await sleep(500);
    // The handler is still running: the delivery at offset 0 is not committed (next offset < 1).
    expect(await committed(topic, topic)).toBeLessThan(1);
    release();
    await waitFor(async () => (await committed(topic, topic)) === 1, 10_000, 'commit');
    await sub.close();

    // While the node is down its deliveries wait in the topic; it resumes after its last commit.
    await bus.publish([notify('n1', 2), notify('n1', 3)]);
    const again: Delivery[] = [];
    const restarted = await open(prefix).subscribe('n1', async (b) => {
      again.push(...b);
    });
    await waitFor(() => again.length >= 2, 10_000, 'deliveries after restart');
    expect(heads(again)).toEqual([2, 3]);
    await restarted.close();
  });

  it('reports a throwing handler or an undecodable record and keeps consuming', async () => {
    const errors: unknown[] = [];
    const bus = open(topicPrefix('errors'), { onHandlerError: (e) => errors.push(e) });
    const got: Delivery[] = [];
    const sub = await bus.subscribe('n1', async (b) => {
      got.push(...b);
      if (got.length === 1) throw new Error('push failed');
    });
    await bus.publish([notify('n1', 1)]);
    await waitFor(() => errors.length === 1, 10_000, 'handler error');
    const producer = new Kafka({
      brokers: requireInfra().kafkaBrokers,
      logLevel: logLevel.NOTHING,
    }).producer();
    await producer.connect();
    await producer.send({ topic: bus.nodeTopic('n1'), messages: [{ key: 'u', value: 'not json' }] });
    await producer.disconnect();
    await waitFor(() => errors.length === 2, 10_000, 'decode error');
    await bus.publish([notify('n1', 2)]);
    await waitFor(() => got.length === 2, 10_000, 'next delivery');
    expect(heads(got)).toEqual([1, 2]);
    expect(String(errors[0])).toMatch(/push failed/);
    await sub.close();
  });

  it('writes offline pushes as the documented JSON, keyed by userId', async () => {
    const bus = open(topicPrefix('push'));
    const record: OfflinePush = {
      userId: 'bob',
      messageUid: 2n ** 63n + 7n,
      conversation: single('alice'),
      from: 'alice',
      pushContent: 'alice: hi',
      mentioned: true,
    };
    await bus.publishOfflinePush([record]);
    const kafka = new Kafka({ brokers: requireInfra().kafkaBrokers, logLevel: logLevel.NOTHING });
    const reader = kafka.consumer({ groupId: unique('reader'), maxWaitTimeInMs: 200 });
    const raw: { key: string; value: string }[] = [];
    await reader.connect();
    await reader.subscribe({ topic: bus.offlinePushTopic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        raw.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
      },
    });
    await waitFor(() => raw.length === 1, 10_000, 'offline push');
    await reader.disconnect();
    expect(raw[0]?.key).toBe('bob');
    expect(JSON.parse(raw[0]?.value ?? '')).toEqual({
      userId: 'bob',
      messageUid: '9223372036854775815',
      conversation: { type: record.conversation.type, target: 'alice' },
      from: 'alice',
      pushContent: 'alice: hi',
      mentioned: true,
    });
  });

  it('refuses to publish after close; close is safe twice', async () => {
    const bus = open(topicPrefix('closed'));
    await bus.close();
    await bus.close();
    await expect(bus.publish([notify('n1', 1)])).rejects.toThrow(/closed/);
  });
});
