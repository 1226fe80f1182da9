import { Redis } from 'ioredis';
import { type Admin, Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import type { Logger } from '../log.js';

/*
 * Issue 10 item 2: the delivery topic `P deliver.<nodeId>` and consumer group (same name) of every
 * edge node (bus.kafka.ts) outlive the node: each rollout or scale-out leaves some behind. One
 * janitor in the cluster deletes those of nodes that are gone, so the number of topics stays
 * bounded by the live edges plus those gone for less than the grace period.
 *
 * Gone = its consumer group has had no member for graceMs. The group IS the edge's heartbeat:
 * Kafka drops a member that stops heartbeating (session timeout), it needs no new write path
 * (the edge talks to no Redis, and holds no route when it has no client), and it is the one thing
 * that must be true before deleting: nobody reads the topic. Deleting the group first also makes
 * Kafka refuse (NON_EMPTY_GROUP) if an edge rejoined meanwhile; the topic is then kept.
 *
 * One janitor acts at a time: a Redis lock (SET NX PX, renewed by its holder each run) elects it,
 * so every presence replica may run one. "Empty since" is the leader's memory: a new leader starts
 * the grace over, which only delays deletions.
 *
 * The grace must exceed the route TTL (no delivery is published to a node whose routes are gone)
 * and any time a live edge's consumer may be out of its group (a broker restart, a consumer
 * restarting, a frozen process): an edge whose topic was deleted stops receiving deliveries.
 */

export interface KafkaJanitorOptions {
  brokers: string[];
  /** Topic and group prefix (config kafkaTopicPrefix). */
  topicPrefix: string;
  /** The lock's Redis: a URL (the janitor's own client, closed by stop()) or a client (not closed). */
  redis: Redis | string;
  /** The lock key (e.g. `<config.redisPrefix>kafka-janitor`). */
  lockKey: string;
  /** Who holds the lock (config nodeId, or a random id). */
  holder: string;
  /** A node's group empty this long: its topic and group are deleted. */
  graceMs: number;
  /** The smallest grace accepted (the route TTL). */
  minGraceMs: number;
  /** How often the leader looks. */
  intervalMs: number;
  logger: Logger;
  /** Extra kafkajs settings (ssl, sasl). */
  kafka?: Partial<KafkaConfig>;
}

export interface JanitorPass {
  /** Whether this process held the lock for the pass. */
  leader: boolean;
  /** Node topics seen. */
  topics: number;
  /** Topics (with their groups) deleted. */
  deleted: string[];
}

/** KEYS: lock. ARGV: holder, ttlMs. → 1 when the caller holds the lock (taken or renewed). */
const TAKE_OR_RENEW = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** KEYS: lock. ARGV: holder. Gives the lock up when held by the caller. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class KafkaJanitor {
  private readonly admin: Admin;
  private readonly redis: Redis;
  private readonly ownsRedis: boolean;
  private readonly nodePrefix: string;
  private readonly emptySince = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<JanitorPass> | null = null;
  private connected: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly opts: KafkaJanitorOptions) {
    if (!(opts.intervalMs > 0)) throw new RangeError('janitor intervalMs must be > 0');
    if (!(opts.graceMs >= opts.minGraceMs)) {
      throw new RangeError(
        `janitor graceMs (${opts.graceMs}) must be at least the route TTL (${opts.minGraceMs}): a node's topic must outlive its routes`,
      );
    }
    this.nodePrefix = `${opts.topicPrefix}deliver.`;
    this.ownsRedis = typeof opts.redis === 'string';
    this.redis =
      typeof opts.redis === 'string' ? new Redis(opts.redis, { maxRetriesPerRequest: 2 }) : opts.redis;
    // While Redis is away a pass fails and is logged; the client reconnects by itself.
    if (this.ownsRedis) this.redis.on('error', () => {});
    this.admin = new Kafka({
      clientId: `im-janitor-${opts.holder}`,
      brokers: opts.brokers,
      logLevel: logLevel.NOTHING,
      ...opts.kafka,
    }).admin();
  }

  /** Runs a pass every intervalMs (unref'd); a failed pass is logged and tried at the next. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      this.pass().catch((err) => this.opts.logger.warn({ err: String(err) }, 'kafka janitor pass failed'));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** One look (also for tests): take or renew the lock; if held, delete what is gone past the grace. */
  pass(now = Date.now()): Promise<JanitorPass> {
    this.running ??= this.sweep(now).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Stops the timer, waits for a pass in flight, gives the lock up. Safe to repeat. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
    await this.redis.eval(RELEASE, 1, this.opts.lockKey, this.opts.holder).catch(() => {});
    if (this.ownsRedis) await this.redis.quit().catch(() => this.redis.disconnect());
    if (this.connected) await this.admin.disconnect().catch(() => {});
  }

  private async sweep(now: number): Promise<JanitorPass> {
    const lockTtl = String(this.opts.intervalMs * 3);
    const held = await this.redis.eval(TAKE_OR_RENEW, 1, this.opts.lockKey, this.opts.holder, lockTtl);
    if (Number(held) !== 1) {
      // Another janitor acts; if this one leads again later, its grace starts over.
      this.emptySince.clear();
      return { leader: false, topics: 0, deleted: [] };
    }
    this.connected ??= this.admin.connect().catch((err) => {
      this.connected = null;
      throw err;
    });
    await this.connected;
    const topics = (await this.admin.listTopics()).filter((t) => t.startsWith(this.nodePrefix));
    for (const t of this.emptySince.keys()) if (!topics.includes(t)) this.emptySince.delete(t);
    if (topics.length === 0) return { leader: true, topics: 0, deleted: [] };
    // bus.kafka.ts: a node's consumer group has the topic's name.
    const { groups } = await this.admin.describeGroups(topics);
    const members = new Map(groups.map((g) => [g.groupId, g.members.length]));
    const due: string[] = [];
    for (const topic of topics) {
      if ((members.get(topic) ?? 0) > 0) {
        this.emptySince.delete(topic);
        continue;
      }
      const since = this.emptySince.get(topic) ?? now;
      this.emptySince.set(topic, since);
      if (now - since >= this.opts.graceMs) due.push(topic);
    }
    const deleted: string[] = [];
    for (const topic of due) {
      if (await this.deleteGroup(topic)) {
        await this.admin.deleteTopics({ topics: [topic] });
        this.emptySince.delete(topic);
        deleted.push(topic);
      }
    }
    if (deleted.length > 0) {
      this.opts.logger.info(
        { deleted, graceMs: this.opts.graceMs },
        'kafka janitor: deleted the topics and groups of gone edge nodes',
      );
    }
    return { leader: true, topics: topics.length, deleted };
  }

  /** True when the group is gone now (deleted, or never existed); false when a member came back. */
  private async deleteGroup(groupId: string): Promise<boolean> {
    try {
      await this.admin.deleteGroups([groupId]);
      return true;
    } catch (err) {
      const codes = groupErrorCodes(err);
      if (codes.every((c) => c === 'GROUP_ID_NOT_FOUND')) return true;
      if (codes.includes('NON_EMPTY_GROUP')) {
        this.emptySince.delete(groupId);
        return false;
      }
      throw err;
    }
  }
}

/** kafkajs reports per-group failures of deleteGroups in `groups[].error.type`. */
function groupErrorCodes(err: unknown): string[] {
  const groups = (err as { groups?: { error?: { type?: string } }[] }).groups;
  if (!Array.isArray(groups)) return [String((err as { type?: string }).type ?? err)];
  return groups.map((g) => g.error?.type ?? 'UNKNOWN');
}
