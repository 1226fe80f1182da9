import Long from 'long';
import { ImError } from './errors.js';
import { Status } from './status.js';

/**
 * 64-bit field conversions between protobufjs Longs and the body types (bodies.ts): ids are exact
 * bigints over the whole uint64 range; seq/head/since/times are numbers and a decoded value a double
 * cannot hold exactly is refused as BAD_REQUEST (docs/protocol.md).
 */

/** What the generated decoder hands out for 64-bit fields (a number only if long.js were missing). */
export type LongLike = { low: number; high: number } | number;

const U64_MAX = (1n << 64n) - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_32 = 0x1_0000_0000;
/**
 * The largest high word of a value below 2^53: up to it, `high * 2^32 + low` is exact in a double,
 * so the hot conversions below skip the bigint arithmetic (and its allocations).
 */
const SAFE_HIGH = 0x1f_ffff;
const LOW_32 = 0xffff_ffffn;

/** What the generated encoder takes for a 64-bit field: a Long, or a safe integer (converted exactly). */
export type U64Wire = Long | number;

function toBigUnsigned(v: LongLike): bigint {
  if (typeof v === 'number') return BigInt(v);
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

export function u64ToBigint(v: LongLike): bigint {
  if (typeof v !== 'number') {
    const high = v.high >>> 0;
    if (high <= SAFE_HIGH) return BigInt(high * TWO_32 + (v.low >>> 0));
  }
  return toBigUnsigned(v);
}

export function u64ToNumber(v: LongLike, path: string): number {
  if (typeof v !== 'number') {
    const high = v.high >>> 0;
    if (high <= SAFE_HIGH) return high * TWO_32 + (v.low >>> 0);
  }
  const big = toBigUnsigned(v);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ImError(Status.BAD_REQUEST, `${path} is ${big}, above Number.MAX_SAFE_INTEGER`);
  }
  return Number(big);
}

export function i64ToNumber(v: LongLike, path: string): number {
  if (typeof v !== 'number') {
    const high = v.high | 0;
    if (high >= -SAFE_HIGH - 1 && high <= SAFE_HIGH) {
      // Exact (|n| <= 2^53); only -2^53 itself is outside the safe range and is refused below.
      const n = high * TWO_32 + (v.low >>> 0);
      if (n >= Number.MIN_SAFE_INTEGER) return n;
    }
  }
  const big = BigInt.asIntN(64, toBigUnsigned(v));
  if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new ImError(Status.BAD_REQUEST, `${path} is ${big}, outside the safe integer range`);
  }
  return Number(big);
}

/**
 * The encoders hand the generated code a number whenever the value is a safe integer: protobufjs
 * turns it into the same varint bits (LongBits.fromNumber is exact below 2^53) without a Long.
 */
export function bigintToU64(v: bigint, path: string): U64Wire {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
    throw new RangeError(`${path} must be a bigint 0..2^64-1, got ${String(v)}`);
  }
  if (v <= MAX_SAFE) return Number(v);
  return Long.fromBits(Number(v & LOW_32), Number(v >> 32n), true);
}

export function numberToU64(v: number, path: string): U64Wire {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${path} must be a non-negative safe integer, got ${v}`);
  }
  return v;
}

export function numberToI64(v: number, path: string): U64Wire {
  if (!Number.isSafeInteger(v)) throw new RangeError(`${path} must be a safe integer, got ${v}`);
  return v;
}
