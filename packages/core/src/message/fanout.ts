import { codec } from '@im/protocol';
import type { Logger } from '../log.js';
import type { Delivery, DeliveryBus, OfflinePush, Route, RouteStore, StoredMessage } from '../ports.js';
import { toWireMessage, wireSizeBound } from './wire.js';

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
}

/**
 * A chatroom message (protocol.md §6 Chatrooms): one delivery per edge node holding members of the
 * room; the edge pushes it to its local members. No routes lookup, no offline push.
 */
export interface RoomFanoutJob {
  message: StoredMessage;
  roomId: string;
  nodes: readonly string[];
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
  /** Jobs held while the bus or routes are slow; past it the oldest are dropped (recipients pull). */
  maxQueued?: number;
}

/**
 * protocol.md §6 Delivery: after the ack, every online device of every recipient (and the
 * sender's other devices) gets the message. One FIFO worker per MessageService takes whatever is
 * queued, looks up all its users' routes at once, and publishes one delivery per (node, user) —
 * in queue order, so a user's messages reach an edge in inbox order.
 * Failures are logged, never reported to the sender: acked is acked, and recipients pull
 * (§6 Guarantee).
 */
export class Fanout {
  private readonly queue: Job[] = [];
  private readonly maxBatch: number;
  private readonly maxQueued: number;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private dropped = 0;
  private closed = false;

  constructor(private readonly opts: FanoutOptions) {
    this.maxBatch = opts.maxBatch ?? 256;
    this.maxQueued = opts.maxQueued ?? 100_000;
  }

  enqueue(job: FanoutJob | RoomFanoutJob): void {
    if (this.closed) return;
    this.queue.push(job);
    if (this.queue.length > this.maxQueued) {
      this.queue.shift();
      if (this.dropped++ % 1000 === 0) {
        this.opts.logger.warn(
          { dropped: this.dropped },
          'fan-out queue full: dropping oldest; recipients will pull',
        );
      }
    }
    if (!this.running) {
      this.running = true;
      void this.run();
    }
  }

  /** Jobs waiting for the worker (not the batch in hand); /metrics im_fanout_queue_depth. */
  get queued(): number {
    return this.queue.length;
  }

  /** Jobs dropped since start because the queue was full; /metrics im_fanout_dropped_total. */
  get droppedJobs(): number {
    return this.dropped;
  }

  /** Resolves once everything enqueued so far has been handed to the bus (or given up on). */
  drain(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking jobs and finishes the queued ones. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }

  private async run(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const jobs = this.queue.splice(0, this.maxBatch);
        try {
          await this.process(jobs);
        } catch (err) {
          this.opts.logger.warn({ err, messages: jobs.length }, 'fan-out failed; recipients will pull');
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async process(jobs: Job[]): Promise<void> {
    const users = new Set<string>();
    for (const j of jobs) if (!isRoomJob(j)) for (const u of j.targets.keys()) users.add(u);
    const routes = users.size > 0 ? await this.opts.routes.lookup([...users]) : new Map<string, Route[]>();
    const deliveries: Delivery[] = [];
    const pushes: OfflinePush[] = [];
    for (const job of jobs) {
      if (isRoomJob(job)) {
        for (const nodeId of job.nodes) {
          deliveries.push({ kind: 'room', nodeId, roomId: job.roomId, message: job.message });
        }
      } else {
        this.plan(job, routes, deliveries, pushes);
      }
    }
    const results = await Promise.allSettled([
      deliveries.length > 0 ? this.opts.bus.publish(deliveries) : undefined,
      pushes.length > 0 ? this.opts.bus.publishOfflinePush(pushes) : undefined,
    ]);
    const [pub, push] = results;
    if (pub?.status === 'rejected') {
      this.opts.logger.warn(
        { err: pub.reason, deliveries: deliveries.length },
        'publishing deliveries failed',
      );
    }
    if (push?.status === 'rejected') {
      this.opts.logger.warn({ err: push.reason, records: pushes.length }, 'publishing offline pushes failed');
    }
  }

  private plan(job: FanoutJob, routes: Map<string, Route[]>, out: Delivery[], pushes: OfflinePush[]): void {
    const m = job.message;
    const notify = job.notifyOnly || this.bodyTooLarge(job);
    for (const [userId, seq] of job.targets) {
      const isSender = userId === m.from;
      let live = routes.get(userId) ?? [];
      if (isSender) live = live.filter((r) => r.deviceId !== job.senderDevice);
      if (live.length === 0) {
        if (!isSender && job.offlinePush) pushes.push(offlinePush(m, userId));
        continue;
      }
      const exclude = isSender ? { excludeDeviceId: job.senderDevice } : {};
      for (const nodeId of new Set(live.map((r) => r.nodeId))) {
        // MN only makes sense for stored messages: a transient one (seq 0) cannot be pulled.
        if (notify && seq > 0) out.push({ kind: 'notify', nodeId, userId, head: seq, ...exclude });
        else out.push({ kind: 'message', nodeId, userId, message: m, seq, ...exclude });
      }
    }
  }

  private bodyTooLarge(job: FanoutJob): boolean {
    // Most messages are far below the limit: the bound settles it without encoding the message.
    if (wireSizeBound(job.message) <= this.opts.pushMaxBodyBytes) return false;
    let maxSeq = 0;
    for (const s of job.targets.values()) maxSeq = Math.max(maxSeq, s);
    return codec.Message.encode(toWireMessage(job.message, maxSeq)).length > this.opts.pushMaxBodyBytes;
  }
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
