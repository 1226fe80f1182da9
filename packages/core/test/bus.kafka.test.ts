import { codec, withSeq } from '@im/protocol';
import { DeliveryBatch, OfflinePush as OfflinePushRecord } from '@im/protocol/internal';
import { type Admin, type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeInfra, requireInfra, uniqueTopicPrefix } from '../../../test/support/infra.js';
import { decodeDeliveries, encodeDeliveries, KafkaBus, type KafkaBusOptions } from '../src/bus/bus.kafka.js';
import { encodeForDelivery } from '../src/message/wire.js';
import type { Delivery, OfflinePush } from '../src/ports.js';
import { deliveryBusContract } from './contracts/bus.contract.js';
import { content, group, single, sleep, stored, unique, waitFor } from './support.js';

/** Reads the documented offline-push record (proto/internal/delivery.proto OfflinePush) back. */
function parseOfflinePush(bytes: Uint8Array): OfflinePush {
  const r = OfflinePushRecord.decode(bytes);
  return { ...r, conversation: r.conversation ?? { type: 0, target: '' } };
}

describe('KafkaBus wire format', () => {
  const message = encodeForDelivery(
    stored({
      uid: 2n ** 64n - 1n,
      messageId: 0n,
      from: 'a',
      fromDevice: 'phone',
      conversation: group('g'),
      content: content({ data: new Uint8Array([0, 255, 128]), mentionedTargets: ['x', 'y'] }),
      e2e: true,
    }),
  );

  it('round-trips every delivery kind, uint64 extremes and bytes', () => {
    const all: Delivery[] = [
      { kind: 'message', nodeId: 'n', userId: 'u', message, seq: 2 ** 40, excludeDeviceId: 'd' },
      { kind: 'notify', nodeId: 'n', userId: 'u', head: 3 },
      { kind: 'kick', nodeId: 'n', userId: 'u', deviceId: 'd', epoch: 12 },
      { kind: 'room', nodeId: 'n', roomId: 'live', message },
    ];
    const records = encodeDeliveries(all);
    expect([...records.keys()]).toEqual([0]);
    const back = decodeDeliveries(records.get(0) as Uint8Array, 'n');
    expect(back).toEqual(all);
    // The message travels once for both deliveries that carry it, and comes back shared.
    expect(DeliveryBatch.decode(records.get(0) as Uint8Array).messages).toHaveLength(1);
    expect(
      back[0]?.kind === 'message' && back[3]?.kind === 'room' && back[0].message === back[3].message,
    ).toBe(true);
    // The MPS body is the encoded message plus the seq: the canonical encoding of the message with it.
    const decoded = codec.Message.decode(withSeq(message.bytes, 2 ** 40));
    expect(decoded.messageUid).toBe(2n ** 64n - 1n);
    expect(decoded.seq).toBe(2 ** 40);
  });

  it("splits a node's deliveries by partition, a user always to the same one, in order", () => {
    const many: Delivery[] = Array.from({ length: 60 }, (_, i) => ({
      kind: 'notify' as const,
      nodeId: 'n',
      userId: `u${i % 12}`,
      head: i,
    }));
    const records = encodeDeliveries(many, 4);
    expect(records.size).toBeGreaterThan(1);
    const seen = new Map<string, { partition: number; heads: number[] }>();
    for (const [partition, bytes] of records) {
      for (const d of decodeDeliveries(bytes, 'n')) {
        if (d.kind !== 'notify') throw new Error('unexpected kind');
        const s = seen.get(d.userId) ?? { partition, heads: [] };
        expect(s.partition).toBe(partition);
        s.heads.push(d.head);
        seen.set(d.userId, s);
      }
    }
    for (const [user, s] of seen) {
      const i = Number(user.slice(1));
      expect(s.heads).toEqual([i, i + 12, i + 24, i + 36, i + 48]);
    }
  });

  it('refuses a record that is not a DeliveryBatch, or a delivery of no kind', () => {
    expect(() => decodeDeliveries(new Uint8Array([0xff, 0xff]), 'n')).toThrow(/DeliveryBatch/);
    expect(() => decodeDeliveries(DeliveryBatch.encode({ deliveries: [{}] }), 'n')).toThrow(/no kind/);
    expect(() =>
      decodeDeliveries(DeliveryBatch.encode({ deliveries: [{ room: { roomId: 'r', message: 3 } }] }), 'n'),
    ).toThrow(/message 3/);
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
              const record = parseOfflinePush(message.value ?? new Uint8Array(0));
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

  it('writes offline pushes as the documented OfflinePush records, keyed by userId', async () => {
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
    const raw: { key: string; value: Uint8Array }[] = [];
    await reader.connect();
    await reader.subscribe({ topic: bus.offlinePushTopic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        raw.push({ key: message.key?.toString() ?? '', value: message.value ?? new Uint8Array(0) });
      },
    });
    await waitFor(() => raw.length === 1, 10_000, 'offline push');
    await reader.disconnect();
    expect(raw[0]?.key).toBe('bob');
    expect(OfflinePushRecord.decode(raw[0]?.value ?? new Uint8Array(0))).toStrictEqual({
      userId: 'bob',
      messageUid: 2n ** 63n + 7n,
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
