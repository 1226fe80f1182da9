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
const U32 = 0x1_0000_0000n;

function toBigUnsigned(v: LongLike): bigint {
  if (typeof v === 'number') return BigInt(v);
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

export function u64ToBigint(v: LongLike): bigint {
  return toBigUnsigned(v);
}

export function u64ToNumber(v: LongLike, path: string): number {
  const big = toBigUnsigned(v);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ImError(Status.BAD_REQUEST, `${path} is ${big}, above Number.MAX_SAFE_INTEGER`);
  }
  return Number(big);
}

export function i64ToNumber(v: LongLike, path: string): number {
  const big = BigInt.asIntN(64, toBigUnsigned(v));
  if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new ImError(Status.BAD_REQUEST, `${path} is ${big}, outside the safe integer range`);
  }
  return Number(big);
}

export function bigintToU64(v: bigint, path: string): Long {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
    throw new RangeError(`${path} must be a bigint 0..2^64-1, got ${String(v)}`);
  }
  return Long.fromBits(Number(v % U32), Number(v / U32), true);
}

export function numberToU64(v: number, path: string): Long {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${path} must be a non-negative safe integer, got ${v}`);
  }
  return Long.fromNumber(v, true);
}

export function numberToI64(v: number, path: string): Long {
  if (!Number.isSafeInteger(v)) throw new RangeError(`${path} must be a safe integer, got ${v}`);
  return Long.fromNumber(v, false);
}
