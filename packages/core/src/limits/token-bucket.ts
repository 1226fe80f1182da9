/**
 * A token bucket: `ratePerSecond` tokens flow in, at most `burst` are kept. Used per connection
 * (frames, bytes) and per IP address (accepts) by the edge, and per (sender, conversation) for
 * TYPING by the message service: protocol.md §6 Limits and abuse.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
      this.last = now;
    }
  }

  /**
   * Takes `cost` tokens if the bucket holds min(cost, burst) of them. A cost above the burst (one
   * large frame) needs a full bucket and leaves a debt, so it is possible but paid for afterwards.
   */
  take(cost: number, now: number): boolean {
    this.refill(now);
    if (this.tokens < Math.min(cost, this.burst)) return false;
    this.tokens -= cost;
    return true;
  }

  /** Gives back tokens taken for something that was refused after all. */
  refund(cost: number): void {
    this.tokens = Math.min(this.burst, this.tokens + cost);
  }

  /** Milliseconds until take(cost) can succeed (at least 1). */
  waitMs(cost: number, now: number): number {
    this.refill(now);
    const missing = Math.min(cost, this.burst) - this.tokens;
    return Math.max(1, Math.ceil((missing * 1000) / this.ratePerSecond));
  }

  /** Full again: nothing to remember about this client (the per-IP table forgets it). */
  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }
}
