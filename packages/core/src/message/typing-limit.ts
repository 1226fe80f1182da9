import { type Conversation, ImError, Status } from '@im/protocol';
import type { Clock } from '../clock.js';
import { TokenBucket } from '../limits/token-bucket.js';

/** The table is swept of full buckets at most this often. */
const SWEEP_EVERY_MS = 10_000;

/**
 * protocol.md §6 Limits and abuse, Transient content: TYPING is rate-limited per (sender,
 * conversation) — config message.typingPerSecond / typingBurst (0 = no limit). Over it:
 * TOO_MANY_REQUESTS with retryAfterMs. A TYPING is never stored, so this is what keeps one client
 * from turning indicators into a flood of pushes to everyone in a conversation. The table forgets a
 * pair once its bucket is full again, so it stays as small as the set of people typing now.
 */
export class TypingLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastSweep: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.lastSweep = clock.now();
  }

  /** Takes one TYPING for (sender, conversation), or throws TOO_MANY_REQUESTS. */
  take(sender: string, conversation: Conversation): void {
    if (this.ratePerSecond <= 0) return;
    const now = this.clock.now();
    this.sweep(now);
    const key = `${sender}\u0000${conversation.type}\u0000${conversation.target}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.ratePerSecond, Math.max(1, this.burst), now);
      this.buckets.set(key, bucket);
    }
    if (bucket.take(1, now)) return;
    const waitMs = bucket.waitMs(1, now);
    throw new ImError(
      Status.TOO_MANY_REQUESTS,
      `TYPING limit of ${this.ratePerSecond}/s per conversation exceeded; retry after ${waitMs} ms`,
      { retryAfterMs: waitMs },
    );
  }

  /** Pairs held now (tests). */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [key, b] of this.buckets) if (b.isFull(now)) this.buckets.delete(key);
  }
}
