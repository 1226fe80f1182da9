import Long from 'long';

/**
 * 64-bit fields of the internal contracts. uint64 ids are exact bigints over the whole range; seq,
 * head, times and epochs are numbers (ports.ts), checked to be safe integers both ways, so nothing
 * ever passes through a lossy double. A value out of range here is a bug in the cluster, not a
 * client error: it throws RangeError (the server answers INTERNAL).
 */

/** What the generated decoder hands out for a 64-bit field (absent → the prototype default). */
export type LongLike = Long | number | null | undefined;

const U64_MAX = (1n << 64n) - 1n;
const U32 = 0x1_0000_0000n;

function bits(v: LongLike): bigint {
  if (v == null) return 0n;
  if (typeof v === 'number') return BigInt(v);
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

export function toU64(v: bigint, path: string): Long {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
    throw new RangeError(`${path} must be a bigint 0..2^64-1, got ${String(v)}`);
  }
  return Long.fromBits(Number(v % U32), Number(v / U32), true);
}

export function fromU64(v: LongLike): bigint {
  return bits(v);
}

export function numToU64(v: number, path: string): Long {
  if (!Number.isSafeInteger(v) || v < 0)
    throw new RangeError(`${path} must be a safe integer >= 0, got ${v}`);
  return Long.fromNumber(v, true);
}

export function numFromU64(v: LongLike, path: string): number {
  const n = bits(v);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${path} is ${n}, above MAX_SAFE_INTEGER`);
  return Number(n);
}

export function numToI64(v: number, path: string): Long {
  if (!Number.isSafeInteger(v)) throw new RangeError(`${path} must be a safe integer, got ${v}`);
  return Long.fromNumber(v, false);
}

export function numFromI64(v: LongLike, path: string): number {
  const n = BigInt.asIntN(64, bits(v));
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${path} is ${n}, outside the safe integer range`);
  }
  return Number(n);
}
