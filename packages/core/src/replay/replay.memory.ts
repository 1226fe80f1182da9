import { type Clock, systemClock } from '../clock.js';
import type { ReplayCache } from '../ports.js';

/**
 * ReplayCache of one process (embedded mode): key → expiry. Expired keys are swept as new ones
 * come in, so memory holds at most what was recorded within the last TTL.
 */
export class MemoryReplayCache implements ReplayCache {
  private readonly expiries = new Map<string, number>();
  private readonly clock: Clock;

  constructor(opts: { clock?: Clock } = {}) {
    this.clock = opts.clock ?? systemClock;
  }

  async remember(key: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    this.sweep(now);
    const expiry = this.expiries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    // Re-inserted at the end: the map stays in insertion order, which sweep() relies on for equal TTLs.
    this.expiries.delete(key);
    this.expiries.set(key, now + ttlMs);
    return true;
  }

  /** Keys held now (tests). */
  get size(): number {
    return this.expiries.size;
  }

  async close(): Promise<void> {
    this.expiries.clear();
  }

  /** Drops expired keys from the oldest on; stops at the first live one (one TTL in practice). */
  private sweep(now: number): void {
    for (const [key, expiry] of this.expiries) {
      if (expiry > now) return;
      this.expiries.delete(key);
    }
  }
}
