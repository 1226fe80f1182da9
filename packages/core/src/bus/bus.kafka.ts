import {
  type DeliveredMessage,
  DeliveryBatch,
  OfflinePush as OfflinePushRecord,
  type Delivery as WireDelivery,
} from '@im/protocol/internal';
import {
  type Admin,
  type Consumer,
  Kafka,
  type KafkaConfig,
  type logCreator,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import type { Delivery, DeliveryBus, EncodedMessage, OfflinePush, Subscription } from '../ports.js';

/*
 * Topics (prefix P, default `im.`):
 *   P deliver.<nodeId>  one per edge node. A delivery concerns only the node that holds the
 *                       device (protocol.md §6 Delivery: "only to the edge node that holds the
 *                       device"), so each edge reads its own topic and nothing else: no edge
 *                       filters the whole cluster's traffic. Adding an edge = a new topic
 *                       (created when the edge subscribes). A removed edge's topic is left to
 *                       retention: its routes expire (RouteStore TTL), so nothing new is sent to it.
 *   P offline-push      protocol.md §6 Offline push hook: one im.internal.OfflinePush record
 *                       (proto/internal/delivery.proto) per offline recipient, keyed by userId.
 *
 * Records are binary protobuf (proto/internal/delivery.proto). One publish() writes ONE record per
 * (node topic, partition): an im.internal.DeliveryBatch holding each message once and the
 * deliveries that point at it, so a fan-out batch costs one record per edge node, not one per
 * recipient. A user's (a room's) deliveries always go to the same partition (hash of the user id,
 * of `room:<id>`), in publish order. The producer is idempotent (acks = all): a retried send is
 * never written twice.
 * Each edge consumes its topic in a consumer group of its own (`P deliver.<nodeId>`). A record is
 * handed over once it is decoded; offsets are committed at most once per commitIntervalMs and only
 * for records whose handler resolved (i.e. after the push was attempted), so a crash re-delivers
 * (pushes may duplicate; clients drop duplicates by messageUid, protocol.md §6 Guarantee) instead
 * of losing.
 */

export interface KafkaBusOptions {
  brokers: string[];
  clientId?: string;
  /** Topic and group prefix; tests use a unique one. Default `im.`. */
  topicPrefix?: string;
  /** Partitions of a node topic when this bus creates it; default 1. */
  nodeTopicPartitions?: number;
  /** publish / publishOfflinePush reject after this (the idempotent producer retries forever). */
  publishTimeoutMs?: number;
  /**
   * Longest wait of an idle fetch; also bounds how long closing a subscription takes (kafkajs
   * lets the fetch in flight finish). Default 1000.
   */
  fetchMaxWaitMs?: number;
  /** Offsets of handled records are committed at most this often; default 1000. */
  commitIntervalMs?: number;
  /** A subscriber's handler threw, or a record could not be decoded; the record is not retried. */
  onHandlerError?: (err: unknown, nodeId: string) => void;
  logLevel?: logLevel;
  logCreator?: logCreator;
  /** Extra kafkajs client settings (ssl, sasl, timeouts). */
  kafka?: Partial<KafkaConfig>;
}

const NODE_ID = /^[A-Za-z0-9._-]+$/;

// ---------------------------------------------------------------- wire format

/**
 * The records of one node topic for `deliveries` (all addressed to that node): one
 * DeliveryBatch per partition, each message carried once per record.
 */
export function encodeDeliveries(deliveries: readonly Delivery[], partitions = 1): Map<number, Uint8Array> {
  const parts = new Map<
    number,
    { messages: DeliveredMessage[]; index: Map<EncodedMessage, number>; list: WireDelivery[] }
  >();
  for (const d of deliveries) {
    const partition =
      partitions > 1 ? partitionOf(d.kind === 'room' ? `room:${d.roomId}` : d.userId, partitions) : 0;
    let part = parts.get(partition);
    if (!part) {
      part = { messages: [], index: new Map(), list: [] };
      parts.set(partition, part);
    }
    const ref = (m: EncodedMessage): number => {
      let i = part.index.get(m);
      if (i === undefined) {
        i = part.messages.length;
        part.index.set(m, i);
        part.messages.push({
          message: m.bytes,
          e2e: m.e2e,
          from: m.from,
          fromDevice: m.fromDevice,
          serverTime: m.serverTime,
          traceparent: m.traceparent ?? '',
        });
      }
      return i;
    };
    switch (d.kind) {
      case 'message':
        part.list.push({
          push: {
            userId: d.userId,
            seq: d.seq,
            excludeDevice: d.excludeDeviceId ?? '',
            message: ref(d.message),
          },
        });
        break;
      case 'notify':
        part.list.push({
          notify: { userId: d.userId, head: d.head, excludeDevice: d.excludeDeviceId ?? '' },
        });
        break;
      case 'room':
        part.list.push({ room: { roomId: d.roomId, message: ref(d.message) } });
        break;
      case 'kick':
        part.list.push({ kick: { userId: d.userId, deviceId: d.deviceId, epoch: d.epoch } });
        break;
    }
  }
  const out = new Map<number, Uint8Array>();
  for (const [partition, part] of parts) {
    out.set(partition, DeliveryBatch.encode({ messages: part.messages, deliveries: part.list }));
  }
  return out;
}

/** One record of node `nodeId`'s topic back into deliveries (messages shared, as published). */
export function decodeDeliveries(bytes: Uint8Array, nodeId: string): Delivery[] {
  const batch = DeliveryBatch.decode(bytes);
  const messages: EncodedMessage[] = batch.messages.map((m) => ({
    bytes: m.message ?? new Uint8Array(0),
    e2e: m.e2e,
    from: m.from,
    fromDevice: m.fromDevice,
    serverTime: m.serverTime,
    // Per message: the record carries many, each of its own trace (tracing.ts).
    ...(m.traceparent ? { traceparent: m.traceparent } : {}),
  }));
  const message = (i: number): EncodedMessage => {
    const m = messages[i];
    if (!m) throw new Error(`delivery refers to message ${i} of ${messages.length}`);
    return m;
  };
  const out: Delivery[] = [];
  for (const d of batch.deliveries) {
    if (d.push) {
      const p = d.push;
      out.push({
        kind: 'message',
        nodeId,
        userId: p.userId,
        message: message(p.message),
        seq: p.seq,
        ...(p.excludeDevice ? { excludeDeviceId: p.excludeDevice } : {}),
      });
    } else if (d.notify) {
      const n = d.notify;
      out.push({
        kind: 'notify',
        nodeId,
        userId: n.userId,
        head: n.head,
        ...(n.excludeDevice ? { excludeDeviceId: n.excludeDevice } : {}),
      });
    } else if (d.room) {
      out.push({ kind: 'room', nodeId, roomId: d.room.roomId, message: message(d.room.message) });
    } else if (d.kick) {
      const k = d.kick;
      out.push({ kind: 'kick', nodeId, userId: k.userId, deviceId: k.deviceId, epoch: k.epoch });
    } else {
      throw new Error('a delivery with no kind set');
    }
  }
  return out;
}

/** The documented offline-push record (see the header comment). */
export function encodeOfflinePush(r: OfflinePush): Uint8Array {
  return OfflinePushRecord.encode(r);
}

/** FNV-1a of the key's UTF-16 units: the same partition for the same user in every process. */
function partitionOf(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

// ---------------------------------------------------------------- bus

/** DeliveryBus on Kafka (kafkajs): the cluster's path from the message service to the edges. */
export class KafkaBus implements DeliveryBus {
  private readonly kafka: Kafka;
  private readonly prefix: string;
  private readonly partitions: number;
  private readonly publishTimeoutMs: number;
  private readonly fetchMaxWaitMs: number;
  private readonly commitIntervalMs: number;
  private readonly onHandlerError: (err: unknown, nodeId: string) => void;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private producerReady: Promise<void> | null = null;
  private adminReady: Promise<void> | null = null;
  /** Topics known to exist (created or seen) with their partition count, checked once per process. */
  private readonly knownTopics = new Map<string, Promise<number>>();
  /** Live subscriptions: each consumer with its close (final commit, disconnect). */
  private readonly consumers = new Map<Consumer, () => Promise<void>>();
  private closed = false;

  constructor(opts: KafkaBusOptions) {
    if (opts.brokers.length === 0) throw new Error('KafkaBus needs at least one broker');
    this.prefix = opts.topicPrefix ?? 'im.';
    this.partitions = opts.nodeTopicPartitions ?? 1;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 10_000;
    this.fetchMaxWaitMs = opts.fetchMaxWaitMs ?? 1000;
    this.commitIntervalMs = opts.commitIntervalMs ?? 1000;
    this.onHandlerError = opts.onHandlerError ?? (() => {});
    this.kafka = new Kafka({
      clientId: opts.clientId ?? 'im',
      brokers: opts.brokers,
      logLevel: opts.logLevel ?? logLevel.WARN,
      ...(opts.logCreator ? { logCreator: opts.logCreator } : {}),
      ...opts.kafka,
    });
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    this.admin = this.kafka.admin();
  }

  /** The topic of an edge node. */
  nodeTopic(nodeId: string): string {
    if (!NODE_ID.test(nodeId))
      throw new Error(`node id ${JSON.stringify(nodeId)} is not usable in a topic name`);
    return `${this.prefix}deliver.${nodeId}`;
  }

  get offlinePushTopic(): string {
    return `${this.prefix}offline-push`;
  }

  async publish(deliveries: Delivery[]): Promise<void> {
    this.assertOpen();
    if (deliveries.length === 0) return;
    const byNode = new Map<string, Delivery[]>();
    for (const d of deliveries) {
      const list = byNode.get(d.nodeId);
      if (list) list.push(d);
      else byNode.set(d.nodeId, [d]);
    }
    await this.send(async () => {
      const topics = [...byNode].map(([nodeId, list]) => ({ topic: this.nodeTopic(nodeId), list }));
      const counts = await Promise.all(topics.map((t) => this.ensureTopic(t.topic)));
      return topics.map(({ topic, list }, i) => ({
        topic,
        messages: [...encodeDeliveries(list, counts[i])].map(([partition, value]) => ({
          partition,
          value: asBuffer(value),
        })),
      }));
    });
  }

  async publishOfflinePush(records: OfflinePush[]): Promise<void> {
    this.assertOpen();
    if (records.length === 0) return;
    await this.send(async () => {
      await this.ensureTopic(this.offlinePushTopic);
      const messages = records.map((r) => ({ key: r.userId, value: asBuffer(encodeOfflinePush(r)) }));
      return [{ topic: this.offlinePushTopic, messages }];
    });
  }

  /**
   * Resolves once this node's consumer has joined its group and holds its partitions, so a
   * delivery published after that is consumed (a brand-new group starts at the topic's end).
   */
  async subscribe(nodeId: string, handler: (batch: Delivery[]) => Promise<void>): Promise<Subscription> {
    this.assertOpen();
    const topic = this.nodeTopic(nodeId);
    const groupId = topic;
    await this.ensureTopic(topic);
    const startAt = await this.newGroupStart(groupId, topic);

    const consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: this.fetchMaxWaitMs,
      // The group of a node topic has one member: the edge itself. After a broker restart or an
      // edge crash, its new member waits out the old one's session before it is assigned, so a
      // short session (kafkajs' default is 30 s) shortens that gap in pushes.
      sessionTimeout: 8_000,
      heartbeatInterval: 2_000,
    });
    /** Partition → the next offset to read, of records handled but not yet committed. */
    const handled = new Map<number, string>();
    let commit = async (): Promise<void> => {};
    const close = async (): Promise<void> => {
      if (!this.consumers.delete(consumer)) return;
      // What was handled since the last commit, so a graceful restart re-delivers nothing.
      await commit().catch(() => {});
      await consumer.disconnect();
    };
    this.consumers.set(consumer, close);
    try {
      const assigned = new Promise<void>((resolve) => {
        const off = consumer.on(consumer.events.GROUP_JOIN, (e) => {
          const partitions = e.payload.memberAssignment[topic] ?? [];
          if (partitions.length === 0) return;
          off();
          // Listeners run before the first fetch, so the seek decides where consumption starts.
          for (const partition of partitions) {
            const offset = startAt?.get(partition);
            if (offset !== undefined) consumer.seek({ topic, partition, offset });
          }
          resolve();
        });
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      // Commits at most once per commitIntervalMs (kafkajs' autoCommit commits after every batch):
      // only offsets whose handler resolved, so a crash re-delivers instead of losing.
      let lastCommit = 0;
      let commitTimer: NodeJS.Timeout | null = null;
      commit = async () => {
        if (commitTimer) clearTimeout(commitTimer);
        commitTimer = null;
        lastCommit = Date.now();
        const offsets = [...handled].map(([partition, offset]) => ({ topic, partition, offset }));
        handled.clear();
        if (offsets.length > 0) await consumer.commitOffsets(offsets);
      };
      /** Now when the last commit is old enough, else once it is: at most one commit per interval. */
      const commitSoon = async () => {
        const wait = lastCommit + this.commitIntervalMs - Date.now();
        if (wait <= 0) await commit();
        else
          commitTimer ??= setTimeout(() => {
            commitTimer = null;
            commit().catch((err) => this.onHandlerError(err, nodeId));
          }, wait);
      };
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (!isRunning() || isStale()) return;
          const deliveries: Delivery[] = [];
          for (const m of batch.messages) {
            try {
              if (m.value) for (const d of decodeDeliveries(m.value, nodeId)) deliveries.push(d);
            } catch (err) {
              this.onHandlerError(err, nodeId);
            }
          }
          if (deliveries.length > 0) {
            try {
              await handler(deliveries);
            } catch (err) {
              // Not retried (like MemoryBus): the push was attempted; clients pull what they miss.
              this.onHandlerError(err, nodeId);
            }
          }
          const last = batch.messages[batch.messages.length - 1];
          if (last) {
            resolveOffset(last.offset);
            handled.set(batch.partition, (BigInt(last.offset) + 1n).toString());
            await commitSoon();
          }
          await heartbeat();
        },
      });
      await withTimeout(assigned, 60_000, `consumer of ${topic} was not assigned its partitions`);
    } catch (err) {
      await close().catch(() => {});
      throw err;
    }
    return { close };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.consumers.values()].map((close) => close()));
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }

  // ---------------------------------------------------------------- internals

  private async send(build: () => Promise<TopicMessages[]>): Promise<void> {
    const sending = (async () => {
      const topicMessages = await build();
      this.producerReady ??= this.producer.connect().catch((err) => {
        this.producerReady = null; // try again on the next publish
        throw err;
      });
      await this.producerReady;
      await this.producer.sendBatch({ topicMessages, acks: -1 });
    })();
    await withTimeout(sending, this.publishTimeoutMs, 'kafka publish timed out');
  }

  private async connectAdmin(): Promise<Admin> {
    this.adminReady ??= this.admin.connect().catch((err) => {
      this.adminReady = null;
      throw err;
    });
    await this.adminReady;
    return this.admin;
  }

  /** Creates the topic when missing (auto-creation may be off on the brokers); its partition count. */
  private ensureTopic(topic: string): Promise<number> {
    let p = this.knownTopics.get(topic);
    if (!p) {
      p = (async () => {
        const admin = await this.connectAdmin();
        const numPartitions = topic === this.offlinePushTopic ? 1 : this.partitions;
        // false when it already exists; waitForLeaders so the first send finds a leader.
        await retryRetriable(() =>
          admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true }),
        );
        // It may have existed with another count: records name their partition, so ask.
        const meta = await retryRetriable(() => admin.fetchTopicMetadata({ topics: [topic] }));
        return meta.topics[0]?.partitions.length || numPartitions;
      })();
      this.knownTopics.set(topic, p);
      p.catch(() => this.knownTopics.delete(topic));
    }
    return p;
  }

  /**
   * Where a group that never committed starts: the topic's end as of now (not the start of the
   * retention window, not whatever "latest" is at the first fetch, which races with publishers).
   * So everything published after subscribe() resolved is consumed, and an edge with a new id
   * does not replay old deliveries. A group with commits resumes where it stopped (null).
   */
  private async newGroupStart(groupId: string, topic: string): Promise<Map<number, string> | null> {
    const admin = await this.connectAdmin();
    const [committed] = await retryRetriable(() => admin.fetchOffsets({ groupId, topics: [topic] }));
    if (committed?.partitions.some((p) => p.offset !== '-1')) return null;
    const ends = await retryRetriable(() => admin.fetchTopicOffsets(topic));
    return new Map(ends.map((e) => [e.partition, e.high]));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('KafkaBus is closed');
  }
}

/**
 * Runs an admin call again while Kafka answers with a retriable error: on a fresh cluster the
 * group coordinator is "loading" for a few seconds, and kafkajs' admin does not retry that.
 */
async function retryRetriable<T>(fn: () => Promise<T>, deadlineMs = 30_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    try {
      return await fn();
    } catch (err) {
      const retriable = (err as { retriable?: unknown } | null)?.retriable === true;
      if (!retriable || Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

type TopicMessages = { topic: string; messages: { key?: string; partition?: number; value: Buffer }[] };

/** kafkajs wants Buffers: a view of the encoded bytes, no copy. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (${ms} ms)`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
