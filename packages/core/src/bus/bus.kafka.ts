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
import type { Delivery, DeliveryBus, OfflinePush, StoredMessage, Subscription } from '../ports.js';

/*
 * Topics (prefix P, default `im.`):
 *   P deliver.<nodeId>  one per edge node. A delivery concerns only the node that holds the
 *                       device (protocol.md §6 Delivery: "only to the edge node that holds the
 *                       device"), so each edge reads its own topic and nothing else: no edge
 *                       filters the whole cluster's traffic. Adding an edge = a new topic
 *                       (created when the edge subscribes). A removed edge's topic is left to
 *                       retention: its routes expire (RouteStore TTL), so nothing new is sent to it.
 *   P offline-push      protocol.md §6 Offline push hook, one JSON record per offline recipient:
 *                       {"userId": string, "messageUid": string (uint64 in decimal),
 *                        "conversation": {"type": number, "target": string}, "from": string,
 *                        "pushContent": string, "mentioned": boolean}, keyed by userId.
 *
 * Records are keyed by userId (a chatroom delivery by `room:<roomId>`), so all deliveries of one
 * user, or of one room, stay in one partition, in publish order. The producer is idempotent (acks = all): a retried send is never written twice.
 * Each edge consumes its topic in a consumer group of its own (`P deliver.<nodeId>`); offsets are
 * committed only after the handler resolved, i.e. after the push was attempted, so a crash
 * re-delivers (pushes may duplicate; clients drop duplicates by messageUid, protocol.md §6
 * Guarantee) instead of losing.
 *
 * Deliveries are JSON (`v: 1`): uint64 ids as decimal strings, bytes as base64.
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
  /** A subscriber's handler threw, or a record could not be decoded; the record is not retried. */
  onHandlerError?: (err: unknown, nodeId: string) => void;
  logLevel?: logLevel;
  logCreator?: logCreator;
  /** Extra kafkajs client settings (ssl, sasl, timeouts). */
  kafka?: Partial<KafkaConfig>;
}

const NODE_ID = /^[A-Za-z0-9._-]+$/;

// ---------------------------------------------------------------- wire format

interface WireMessage {
  uid: string;
  messageId: string;
  from: string;
  fromDevice: string;
  to: string;
  conversation: { type: number; target: string };
  content: Omit<StoredMessage['content'], 'data'> & { data: string };
  serverTime: number;
  e2e: boolean;
}

function encodeMessage(m: StoredMessage): WireMessage {
  return {
    uid: m.uid.toString(),
    messageId: m.messageId.toString(),
    from: m.from,
    fromDevice: m.fromDevice,
    to: m.to,
    conversation: { type: m.conversation.type, target: m.conversation.target },
    content: { ...m.content, data: Buffer.from(m.content.data).toString('base64') },
    serverTime: m.serverTime,
    e2e: m.e2e,
  };
}

function decodeMessage(w: WireMessage): StoredMessage {
  const data = Buffer.from(w.content.data, 'base64');
  return {
    uid: BigInt(w.uid),
    messageId: BigInt(w.messageId),
    from: w.from,
    fromDevice: w.fromDevice,
    to: w.to,
    conversation: { type: w.conversation.type, target: w.conversation.target },
    content: { ...w.content, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) },
    serverTime: w.serverTime,
    e2e: w.e2e,
  };
}

/** A delivery as written to a node topic (JSON, version 1). */
export function encodeDelivery(d: Delivery): string {
  if (d.kind === 'message' || d.kind === 'room')
    return JSON.stringify({ v: 1, ...d, message: encodeMessage(d.message) });
  return JSON.stringify({ v: 1, ...d });
}

export function decodeDelivery(text: string): Delivery {
  const o = JSON.parse(text) as Record<string, unknown> & { v?: unknown; kind?: unknown };
  if (o.v !== 1) throw new Error(`unknown delivery version ${String(o.v)}`);
  const { v: _v, ...d } = o;
  switch (d.kind) {
    case 'message':
      return {
        ...(d as unknown as Delivery & { kind: 'message' }),
        message: decodeMessage(d.message as WireMessage),
      };
    case 'room':
      return {
        ...(d as unknown as Delivery & { kind: 'room' }),
        message: decodeMessage(d.message as WireMessage),
      };
    case 'notify':
    case 'kick':
      return d as unknown as Delivery;
    default:
      throw new Error(`unknown delivery kind ${String(d.kind)}`);
  }
}

/** The documented offline-push payload (see the header comment). */
export function encodeOfflinePush(r: OfflinePush): string {
  return JSON.stringify({
    userId: r.userId,
    messageUid: r.messageUid.toString(),
    conversation: { type: r.conversation.type, target: r.conversation.target },
    from: r.from,
    pushContent: r.pushContent,
    mentioned: r.mentioned,
  });
}

// ---------------------------------------------------------------- bus

/** DeliveryBus on Kafka (kafkajs): the cluster's path from the message service to the edges. */
export class KafkaBus implements DeliveryBus {
  private readonly kafka: Kafka;
  private readonly prefix: string;
  private readonly partitions: number;
  private readonly publishTimeoutMs: number;
  private readonly fetchMaxWaitMs: number;
  private readonly onHandlerError: (err: unknown, nodeId: string) => void;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private producerReady: Promise<void> | null = null;
  private adminReady: Promise<void> | null = null;
  /** Topics known to exist (created or seen), so publish checks each topic once per process. */
  private readonly knownTopics = new Map<string, Promise<void>>();
  private readonly consumers = new Set<Consumer>();
  private closed = false;

  constructor(opts: KafkaBusOptions) {
    if (opts.brokers.length === 0) throw new Error('KafkaBus needs at least one broker');
    this.prefix = opts.topicPrefix ?? 'im.';
    this.partitions = opts.nodeTopicPartitions ?? 1;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 10_000;
    this.fetchMaxWaitMs = opts.fetchMaxWaitMs ?? 1000;
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
    const byTopic = new Map<string, { key: string; value: string }[]>();
    for (const d of deliveries) {
      const topic = this.nodeTopic(d.nodeId);
      let list = byTopic.get(topic);
      if (!list) {
        list = [];
        byTopic.set(topic, list);
      }
      // A room's messages keep their order in one partition, as a user's do.
      list.push({ key: d.kind === 'room' ? `room:${d.roomId}` : d.userId, value: encodeDelivery(d) });
    }
    await this.send([...byTopic].map(([topic, messages]) => ({ topic, messages })));
  }

  async publishOfflinePush(records: OfflinePush[]): Promise<void> {
    this.assertOpen();
    if (records.length === 0) return;
    const messages = records.map((r) => ({ key: r.userId, value: encodeOfflinePush(r) }));
    await this.send([{ topic: this.offlinePushTopic, messages }]);
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
    this.consumers.add(consumer);
    const close = async (): Promise<void> => {
      if (!this.consumers.delete(consumer)) return;
      await consumer.disconnect();
    };
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
      await consumer.run({
        autoCommit: true,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (!isRunning() || isStale()) return;
          const deliveries: Delivery[] = [];
          for (const m of batch.messages) {
            try {
              deliveries.push(decodeDelivery(m.value?.toString('utf8') ?? ''));
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
          // Only now is the batch done. kafkajs commits resolved offsets (autoCommit) right after
          // eachBatch returns: after the handler resolved, never before.
          const last = batch.messages[batch.messages.length - 1];
          if (last) resolveOffset(last.offset);
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
    const consumers = [...this.consumers];
    this.consumers.clear();
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }

  // ---------------------------------------------------------------- internals

  private async send(topicMessages: { topic: string; messages: { key: string; value: string }[] }[]) {
    const sending = (async () => {
      await Promise.all(topicMessages.map((t) => this.ensureTopic(t.topic)));
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

  /** Creates the topic when missing (auto-creation may be off on the brokers). */
  private ensureTopic(topic: string): Promise<void> {
    let p = this.knownTopics.get(topic);
    if (!p) {
      p = (async () => {
        const admin = await this.connectAdmin();
        const numPartitions = topic === this.offlinePushTopic ? 1 : this.partitions;
        // false when it already exists; waitForLeaders so the first send finds a leader.
        await retryRetriable(() =>
          admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true }),
        );
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

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (${ms} ms)`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
