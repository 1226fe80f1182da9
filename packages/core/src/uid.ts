import type { UidGenerator } from './ports.js';

/**
 * Snowflake-style message uids (protocol.md §5 Message.messageUid: cluster-unique, time-ordered):
 *
 *   bit 63      always 0 (so a uid fits a signed PostgreSQL bigint)
 *   bits 62..22 41-bit ms since UID_EPOCH_MS (~69 years)
 *   bits 21..12 10-bit worker id (0..1023, leased per process in the cluster)
 *   bits 11..0  12-bit sequence within the ms (4096 uids per ms per worker)
 *
 * Workers never coordinate per uid: distinct worker ids make the ranges disjoint.
 */
export const UID_EPOCH_MS = Date.UTC(2024, 0, 1);
export const UID_WORKER_BITS = 10;
export const UID_SEQUENCE_BITS = 12;
export const UID_MAX_WORKER = (1 << UID_WORKER_BITS) - 1;
const SEQUENCE_MASK = (1 << UID_SEQUENCE_BITS) - 1;
const TIME_SHIFT = BigInt(UID_WORKER_BITS + UID_SEQUENCE_BITS);
const WORKER_SHIFT = BigInt(UID_SEQUENCE_BITS);
const MAX_TIME = 2 ** 41 - 1;

/**
 * A clock step back larger than this is not waited out (it would block the event loop); the
 * generator keeps counting on its last ms instead, which keeps uids unique and increasing.
 */
export const UID_MAX_BACKWARD_WAIT_MS = 50;

export interface SnowflakeOptions {
  /** Injected for tests; defaults to Date.now. */
  now?: () => number;
  /** Told when the clock went back by more than UID_MAX_BACKWARD_WAIT_MS. */
  onClockBackwards?: (backMs: number) => void;
}

export class SnowflakeUid implements UidGenerator {
  readonly workerId: number;
  private readonly now: () => number;
  private readonly onClockBackwards: (backMs: number) => void;
  private lastMs = -1;
  private sequence = 0;

  constructor(workerId: number, opts: SnowflakeOptions = {}) {
    if (!Number.isInteger(workerId) || workerId < 0 || workerId > UID_MAX_WORKER) {
      throw new RangeError(`workerId must be an integer in 0..${UID_MAX_WORKER}, got ${workerId}`);
    }
    this.workerId = workerId;
    this.now = opts.now ?? Date.now;
    this.onClockBackwards = opts.onClockBackwards ?? (() => {});
  }

  next(): bigint {
    let ms = this.elapsed();
    if (ms < this.lastMs) {
      const back = this.lastMs - ms;
      if (back <= UID_MAX_BACKWARD_WAIT_MS) {
        ms = Math.max(this.waitPast(this.lastMs - 1), this.lastMs);
      } else {
        // Too far to wait synchronously: stay on the last ms (uids stay unique and increasing).
        this.onClockBackwards(back);
        ms = this.lastMs;
      }
    }
    if (ms === this.lastMs) {
      this.sequence = (this.sequence + 1) & SEQUENCE_MASK;
      if (this.sequence === 0) {
        // 4096 uids in this ms already: wait for the next one (at most ~1 ms on a sane clock).
        ms = this.waitPast(this.lastMs);
        if (ms <= this.lastMs) ms = this.lastMs + 1; // clock stuck behind: advance logically
      }
    } else {
      this.sequence = 0;
    }
    if (ms > MAX_TIME) throw new RangeError('uid time overflow (41-bit ms since 2024-01-01 exhausted)');
    this.lastMs = ms;
    return (BigInt(ms) << TIME_SHIFT) | (BigInt(this.workerId) << WORKER_SHIFT) | BigInt(this.sequence);
  }

  private elapsed(): number {
    return this.now() - UID_EPOCH_MS;
  }

  /** Spins until the clock passes `ms`, bounded so a frozen (test) clock cannot hang us. */
  private waitPast(ms: number): number {
    const deadline = performance.now() + UID_MAX_BACKWARD_WAIT_MS + 5;
    let t = this.elapsed();
    while (t <= ms && performance.now() < deadline) t = this.elapsed();
    return t;
  }
}

/** The ms since the Unix epoch at which `uid` was generated. */
export function uidTime(uid: bigint): number {
  return Number(uid >> TIME_SHIFT) + UID_EPOCH_MS;
}

/** The worker id encoded in `uid`. */
export function uidWorker(uid: bigint): number {
  return Number((uid >> WORKER_SHIFT) & BigInt(UID_MAX_WORKER));
}

/** protocol.md §5 RECALL: data = the recalled messageUid as 8 bytes big-endian. */
export function uidToBytes(uid: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, uid);
  return out;
}

export function uidFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length !== 8) throw new RangeError(`a uid is 8 bytes, got ${bytes.length}`);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0);
}
