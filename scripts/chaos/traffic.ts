/**
 * Traffic at a fixed rate: every tick a seeded sender sends to a seeded peer (1:1) or to one of
 * its groups. Each device sends one message at a time, in the order it was given them, and tries
 * each until it is acked — after UNAVAILABLE, a timeout or a lost connection, with the SAME
 * messageId once the client is connected again (protocol.md §3 UNAVAILABLE: safe to retry; §6
 * Send: the server deduplicates) — so a sender's acks are in its sending order.
 */
import { ImStatusError, TooManyRequestsError } from '../../packages/client/src/index.js';
import { conversationKey, type Device, retriable } from './devices.js';
import type { Random } from './random.js';
import type { AckedMessage } from './verdict.js';

export interface Group {
  id: string;
  members: string[];
}

interface Job {
  conversation: { type: number; target: string };
  audience: string[];
  text: string;
}

export interface TrafficRecord {
  acked: AckedMessage[];
  givenUp: number;
  unexpectedErrors: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Traffic {
  readonly record: TrafficRecord = { acked: [], givenUp: 0, unexpectedErrors: [] };
  private readonly queues = new Map<string, Job[]>();
  private readonly busy = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private sent = 0;
  /** Sends still unacked at this time are given up (set by finish()). */
  private deadline = Infinity;

  constructor(
    private readonly devices: readonly Device[],
    private readonly groups: readonly Group[],
    private readonly random: Random,
  ) {}

  /** Starts ticking at `rate` messages per second. */
  start(rate: number): void {
    const everyMs = 1000 / rate;
    this.timer = setInterval(() => this.tick(), everyMs);
  }

  /** Stops new messages; waits for the queued ones until `deadlineMs` from now, then gives up the rest. */
  async finish(deadlineMs: number): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.deadline = Date.now() + deadlineMs;
    while (this.running.size > 0) await Promise.all([...this.running]);
    for (const q of this.queues.values()) {
      this.record.givenUp += q.length;
      q.length = 0;
    }
  }

  private tick(): void {
    const from = this.random.pick(this.devices);
    const mine = this.groups.filter((g) => g.members.includes(from.userId));
    const n = ++this.sent;
    let job: Job;
    if (mine.length > 0 && this.random.next() < 0.4) {
      const g = this.random.pick(mine);
      job = {
        conversation: { type: 1, target: g.id },
        audience: g.members,
        text: `${from.userId}#${n} to ${g.id}`,
      };
    } else {
      const others = this.devices.filter((d) => d !== from);
      const to = this.random.pick(others).userId;
      job = {
        conversation: { type: 0, target: to },
        audience: [from.userId, to],
        text: `${from.userId}#${n}`,
      };
    }
    let q = this.queues.get(from.userId);
    if (!q) {
      q = [];
      this.queues.set(from.userId, q);
    }
    q.push(job);
    if (!this.busy.has(from.userId)) {
      const run = this.drain(from).finally(() => this.running.delete(run));
      this.running.add(run);
    }
  }

  /** Sends the device's queue, one message at a time. */
  private async drain(d: Device): Promise<void> {
    this.busy.add(d.userId);
    try {
      const q = this.queues.get(d.userId) ?? [];
      for (let job = q.shift(); job; job = q.shift()) await this.sendUntilAcked(d, job);
    } finally {
      this.busy.delete(d.userId);
    }
  }

  private async sendUntilAcked(d: Device, job: Job): Promise<void> {
    const messageId = d.nextMessageId();
    const firstTryAt = Date.now();
    while (Date.now() < this.deadline) {
      if (d.client.state !== 'connected') {
        await sleep(50);
        continue;
      }
      try {
        const ack = await d.client.send({
          conversation: job.conversation,
          content: { contentType: 1, data: new TextEncoder().encode(job.text), searchableContent: job.text },
          messageId,
        });
        this.record.acked.push({
          uid: ack.messageUid,
          from: d.userId,
          conversation: conversationKey(d.userId, job.conversation),
          audience: job.audience,
          firstTryAt,
          ackAt: Date.now(),
        });
        return;
      } catch (err) {
        if (!retriable(err)) {
          const why = err instanceof ImStatusError ? `${err.statusName}: ${err.reason}` : String(err);
          this.record.unexpectedErrors.push(`${d.userId} → ${job.conversation.target}: ${why}`);
          return;
        }
        await sleep(err instanceof TooManyRequestsError && err.retryAfterMs > 0 ? err.retryAfterMs : 100);
      }
    }
    this.record.givenUp += 1;
  }
}
