import { seqFieldSize } from '@im/protocol';
import type { Logger } from '../log.js';
import type {
  Delivery,
  DeliveryBus,
  EncodedMessage,
  OfflinePush,
  Route,
  RouteStore,
  StoredMessage,
} from '../ports.js';
import { endSpan, SpanKind, startSpan, type TraceSpan, traceparentOf } from '../tracing.js';
import { encodeForDelivery } from './wire.js';

/** One accepted message to hand to the online devices of its users. */
export interface FanoutJob {
  message: StoredMessage;
  /** User → the message's seq in that user's inbox (0 = transient: TYPING, chatroom). */
  targets: ReadonlyMap<string, number>;
  /** The sending device: it got the ack, its user's OTHER devices get the message. */
  senderDevice: string;
  /** MN {head} instead of MPS for every target (large group). */
  notifyOnly: boolean;
  /** Hand targets with no online device (other than the sender) to the offline-push hook. */
  offlinePush: boolean;
  /** The send's trace context when sampled (tracing.ts): the fan-out continues it, to the edges. */
  traceparent?: string | undefined;
}

/**
 * A chatroom message (protocol.md §6 Chatrooms): one delivery per edge node holding members of the
 * room; the edge pushes it to its local members. No routes lookup, no offline push.
 */
export interface RoomFanoutJob {
  message: StoredMessage;
  roomId: string;
  nodes: readonly string[];
  traceparent?: string | undefined;
}

type Job = FanoutJob | RoomFanoutJob;

const isRoomJob = (j: Job): j is RoomFanoutJob => 'roomId' in j;

export interface FanoutOptions {
  routes: RouteStore;
  bus: DeliveryBus;
  logger: Logger;
  /** Bodies larger than this are announced with MN (config message.pushMaxBodyBytes). */
  pushMaxBodyBytes: number;
  /** Jobs handled per routes lookup; default 256. */
  maxBatch?: number;
  /** Jobs held while the bus or routes are slow; past it the oldest turn into MN (see enqueue). Default 100,000. */
  maxQueued?: number;
  /** The same bound in bytes of message content held; default 64 MiB. */
  maxQueuedBytes?: number;
  /**
   * A batch whose routes lookup or publish fails is retried with backoff for this long (default
   * 20 s, the route refresh period), then given up: the edges' head sync tells the devices.
   */
  retryWindowMs?: number;
  /**
   * How long the oldest queued message may wait for others to join its batch (default 0: none).
   * Each batch costs one routes round trip, one Kafka produce and one record per edge node, so a
   * few milliseconds here buy fewer of each under load; unloaded, it adds that much to a push.
   */
  lingerMs?: number;
}

/** Backoff of a failing batch: 50 ms, doubling, at most 2 s. */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 2_000;

/**
 * protocol.md §6 Delivery: after the ack, every online device of every recipient (and the
 * sender's other devices) gets the message. One FIFO worker per MessageService takes whatever is
 * queued, looks up all its users' routes at once, and publishes one delivery per (node, user) —
 * in queue order, so a user's messages reach an edge in inbox order.
 *
 * §6 Guarantee: failures are never reported to the sender (acked is acked). A batch whose lookup
 * or publish fails (route store or bus down) is retried with backoff, in order, for retryWindowMs;
 * past that, the edges' head sync (services/edge/src/head-sync.ts) sends the online devices MN.
 * Overload turns MPS into MN, never into silence: past maxQueued jobs (or maxQueuedBytes), the
 * oldest queued messages are replaced by one MN { head } per user, coalesced (a user's highest
 * seq); only transient messages (TYPING, chatroom: nothing to pull) are dropped.
 */
export class Fanout {
  private queue: Job[] = [];
  /** When each queued job arrived (ms, parallel to `queue`), for lingerMs. */
  private arrived: number[] = [];
  /** Index of the oldest job still queued in `queue` (taking from the front without shifting). */
  private head = 0;
  private readonly lingerMs: number;
  /** Resolves the worker's linger early once a full batch is queued. */
  private full: (() => void) | null = null;
  private queuedBytes = 0;
  /** Users whose queued messages overflowed: their highest seq, for one MN each. */
  private notices = new Map<string, number>();
  private readonly maxBatch: number;
  private readonly maxQueued: number;
  private readonly maxQueuedBytes: number;
  private readonly retryWindowMs: number;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private overflowed = 0;
  private droppedTransient = 0;
  private closed = false;

  constructor(private readonly opts: FanoutOptions) {
    this.maxBatch = opts.maxBatch ?? 256;
    this.maxQueued = opts.maxQueued ?? 100_000;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 64 * 1024 * 1024;
    this.retryWindowMs = opts.retryWindowMs ?? 20_000;
    this.lingerMs = opts.lingerMs ?? 0;
  }

  /** Jobs waiting for the worker (not the batch in hand); /metrics im_fanout_queue_depth. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  enqueue(job: FanoutJob | RoomFanoutJob): void {
    if (this.closed) return;
    this.queue.push(job);
    if (this.lingerMs > 0) this.arrived.push(Date.now());
    this.queuedBytes += jobBytes(job);
    // A full batch, or a transient message (TYPING, chatroom: for the devices online right now),
    // goes without waiting out the linger.
    if (this.full && (this.queued >= this.maxBatch || isTransient(job))) {
      this.full();
      this.full = null;
    }
    while (this.queued > this.maxQueued || (this.queuedBytes > this.maxQueuedBytes && this.queued > 1)) {
      this.overflow(this.takeOldest());
    }
    if (!this.running) {
      this.running = true;
      void this.run();
    }
  }

  /**
   * Jobs that overflowed since start (the queue was full): stored messages went out as MN, transient
   * ones were dropped; /metrics im_fanout_dropped_total.
   */
  get overflowedJobs(): number {
    return this.overflowed + this.droppedTransient;
  }

  /** Resolves once everything enqueued so far has been handed to the bus (or given up on). */
  drain(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking jobs and finishes the queued ones (a failing batch is not retried any more). Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    this.full?.();
    this.full = null;
    await this.drain();
  }

  private takeOldest(): Job {
    const job = this.queue[this.head] as Job;
    this.queue[this.head] = undefined as unknown as Job;
    this.head++;
    this.queuedBytes -= jobBytes(job);
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      if (this.lingerMs > 0) this.arrived = this.arrived.slice(this.head);
      this.head = 0;
    }
    return job;
  }

  /** An overflowed job becomes MN for its users (coalesced); a transient one is dropped. */
  private overflow(job: Job): void {
    let kept = false;
    if (!isRoomJob(job)) {
      for (const [userId, seq] of job.targets) {
        if (seq === 0) continue;
        kept = true;
        this.notices.set(userId, Math.max(seq, this.notices.get(userId) ?? 0));
      }
    }
    if (kept) this.overflowed++;
    else this.droppedTransient++;
    if ((this.overflowed + this.droppedTransient) % 1000 === 1) {
      this.opts.logger.warn(
        {
          overflowed: this.overflowed,
          droppedTransient: this.droppedTransient,
          pendingNotices: this.notices.size,
        },
        'fan-out queue full: the oldest messages go out as MN (transient ones are dropped)',
      );
    }
  }

  private async run(): Promise<void> {
    try {
      while (this.queued > 0 || this.notices.size > 0) {
        await this.linger();
        const jobs: Job[] = [];
        while (jobs.length < this.maxBatch && this.queued > 0) jobs.push(this.takeOldest());
        const notices = this.notices;
        this.notices = new Map();
        await this.processWithRetry(jobs, notices);
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Waits until the oldest queued job is lingerMs old or a full batch is queued. */
  private async linger(): Promise<void> {
    if (this.lingerMs <= 0 || this.closed || this.queued === 0 || this.queued >= this.maxBatch) return;
    for (let i = this.head; i < this.queue.length; i++) if (isTransient(this.queue[i] as Job)) return;
    const wait = (this.arrived[this.head] ?? 0) + this.lingerMs - Date.now();
    if (wait <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.full = null;
        resolve();
      }, wait);
      this.full = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async processWithRetry(jobs: Job[], notices: Map<string, number>): Promise<void> {
    const state = { deliveries: false, pushes: false };
    const started = Date.now();
    for (let attempt = 1, delay = RETRY_FIRST_MS; ; attempt++, delay = Math.min(delay * 2, RETRY_MAX_MS)) {
      try {
        await this.process(jobs, notices, state);
        if (attempt > 1)
          this.opts.logger.info({ attempt, messages: jobs.length }, 'fan-out delivered after retries');
        return;
      } catch (err) {
        const giveUp = this.closed || Date.now() - started + delay > this.retryWindowMs;
        if (attempt === 1 || giveUp) {
          this.opts.logger.warn(
            { err: String(err), messages: jobs.length, attempt },
            giveUp
              ? "fan-out failed; given up (the edges' head sync tells online devices)"
              : 'fan-out failed; retrying',
          );
        }
        if (giveUp) return;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** One attempt; `state` records what already succeeded so a retry does not repeat it. */
  private async process(
    jobs: Job[],
    notices: ReadonlyMap<string, number>,
    state: { deliveries: boolean; pushes: boolean },
  ): Promise<void> {
    const users = new Set<string>(notices.keys());
    for (const j of jobs) if (!isRoomJob(j)) for (const u of j.targets.keys()) users.add(u);
    const routes =
      users.size > 0 && !state.deliveries
        ? await this.opts.routes.lookup([...users])
        : new Map<string, Route[]>();
    const deliveries: Delivery[] = [];
    const pushes: OfflinePush[] = [];
    /** Spans of the sampled messages of the batch (tracing.ts), ended once the batch is published. */
    const spans: TraceSpan[] = [];
    // The overflowed messages are older than the queued ones: their MN first.
    for (const [userId, head] of notices) {
      for (const nodeId of new Set((routes.get(userId) ?? []).map((r) => r.nodeId))) {
        deliveries.push({ kind: 'notify', nodeId, userId, head });
      }
    }
    for (const job of jobs) {
      if (isRoomJob(job)) {
        const message = encode(job, spans);
        for (const nodeId of job.nodes)
          deliveries.push({ kind: 'room', nodeId, roomId: job.roomId, message });
      } else {
        this.plan(job, encode(job, spans), routes, deliveries, pushes);
      }
    }
    const [pub, push] = await Promise.allSettled([
      !state.deliveries && deliveries.length > 0 ? this.opts.bus.publish(deliveries) : undefined,
      !state.pushes && pushes.length > 0 ? this.opts.bus.publishOfflinePush(pushes) : undefined,
    ]);
    for (const span of spans) endSpan(span, pub?.status === 'rejected' ? pub.reason : undefined);
    if (pub?.status === 'fulfilled') state.deliveries = true;
    if (push?.status === 'fulfilled') state.pushes = true;
    if (pub?.status === 'rejected') throw pub.reason;
    if (push?.status === 'rejected') throw push.reason;
  }

  /** `message`: encoded once, shared by every user's delivery (each adds its own seq behind it). */
  private plan(
    job: FanoutJob,
    message: EncodedMessage,
    routes: Map<string, Route[]>,
    out: Delivery[],
    pushes: OfflinePush[],
  ): void {
    const m = job.message;
    let maxSeq = 0;
    for (const s of job.targets.values()) maxSeq = Math.max(maxSeq, s);
    const notify = job.notifyOnly || message.bytes.length + seqFieldSize(maxSeq) > this.opts.pushMaxBodyBytes;
    for (const [userId, seq] of job.targets) {
      const isSender = userId === m.from;
      const live = routes.get(userId);
      // The sender's own device got the ack; its user's other devices get the message.
      const exclude = isSender ? job.senderDevice : undefined;
      let first: string | undefined;
      let more: Set<string> | undefined;
      for (const r of live ?? NO_ROUTES) {
        if (r.deviceId === exclude || r.nodeId === first) continue;
        // One delivery per (node, user): almost always one node, so a Set only for a second one.
        if (first === undefined) {
          first = r.nodeId;
        } else {
          more ??= new Set();
          more.add(r.nodeId);
        }
      }
      if (first === undefined) {
        if (!isSender && job.offlinePush) pushes.push(offlinePush(m, userId));
        continue;
      }
      out.push(delivery(first, userId, message, seq, notify, exclude));
      if (more) for (const nodeId of more) out.push(delivery(nodeId, userId, message, seq, notify, exclude));
    }
  }
}

const NO_ROUTES: readonly Route[] = [];

/** MN only makes sense for stored messages: a transient one (seq 0) cannot be pulled. */
function delivery(
  nodeId: string,
  userId: string,
  message: EncodedMessage,
  seq: number,
  notify: boolean,
  excludeDeviceId: string | undefined,
): Delivery {
  if (notify && seq > 0) {
    return excludeDeviceId === undefined
      ? { kind: 'notify', nodeId, userId, head: seq }
      : { kind: 'notify', nodeId, userId, head: seq, excludeDeviceId };
  }
  return excludeDeviceId === undefined
    ? { kind: 'message', nodeId, userId, message, seq }
    : { kind: 'message', nodeId, userId, message, seq, excludeDeviceId };
}

/** The message encoded once for every delivery of it; a sampled one's span joins `spans`. */
function encode(job: Job, spans: TraceSpan[]): EncodedMessage {
  const encoded = encodeForDelivery(job.message);
  if (job.traceparent) {
    const span = startSpan('im.fanout', SpanKind.PRODUCER, job.traceparent, {
      'im.message_uid': String(job.message.uid),
    });
    const tp = traceparentOf(span);
    if (span && tp) {
      encoded.traceparent = tp;
      spans.push(span);
    }
  }
  return encoded;
}

function isTransient(job: Job): boolean {
  if (isRoomJob(job)) return true;
  for (const seq of job.targets.values()) if (seq !== 0) return false;
  return true;
}

/** What a queued job holds in memory, roughly: its content and names (the bound of maxQueuedBytes). */
function jobBytes(job: Job): number {
  const m = job.message;
  const c = m.content;
  let n = 256 + c.data.length + 2 * (c.searchableContent.length + c.pushContent.length);
  n += 2 * (c.remoteMediaUrl.length + c.localMediaPath.length + m.from.length + m.to.length);
  if (!isRoomJob(job)) n += 48 * job.targets.size;
  return n;
}

function offlinePush(m: StoredMessage, userId: string): OfflinePush {
  const c = m.content;
  return {
    userId,
    messageUid: m.uid,
    conversation: { ...m.conversation },
    from: m.from,
    pushContent: c.pushContent,
    mentioned: c.mentionedType === 2 || (c.mentionedType === 1 && c.mentionedTargets.includes(userId)),
  };
}
