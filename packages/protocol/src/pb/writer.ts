/**
 * Protobuf writer of the generated codecs (src/gen): one growable buffer, fields written in one
 * pass. A length-delimited field reserves one byte for its length and moves its content when the
 * length needs more (fork/join), so nothing is sized twice and no list of pending writes is built.
 * Output is canonical proto3 (minimal varints), byte for byte what other implementations write.
 */

const TWO_32 = 0x1_0000_0000;
/** The largest high word of a safe integer (2^53 - 1 = 0x1f_ffff_ffff_ffff). */
const SAFE_HIGH = 0x1f_ffff;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const LOW_32 = 0xffff_ffffn;
/** Strings up to this many UTF-16 units are encoded by the loop below; longer ones by TextEncoder. */
const SHORT_STRING = 42;

const utf8 = new TextEncoder();

export function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x20_0000 ? 3 : v < 0x1000_0000 ? 4 : 5;
}

export class Writer {
  buf: Uint8Array;
  pos = 0;

  constructor(size = 1024) {
    this.buf = new Uint8Array(size);
  }

  /** A copy of what was written (a plain Uint8Array that owns its memory). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** An unsigned varint of at most 32 bits (tags, lengths, uint32). */
  varint32(v: number): void {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    while (v > 127) {
      b[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** A 64-bit varint from its unsigned 32-bit halves. */
  varint64(lo: number, hi: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (hi) {
      b[p++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 127) {
      b[p++] = (lo & 127) | 128;
      lo >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  /** int32: a negative value is sign-extended to ten bytes (protobuf encoding of int32). */
  int32(v: number): void {
    if (v >= 0) this.varint32(v);
    else this.varint64(v >>> 0, 0xffff_ffff);
  }

  /** A non-negative safe integer as a uint64 varint. */
  u64n(v: number): void {
    if (v < TWO_32) this.varint32(v);
    else this.varint64(v >>> 0, Math.floor(v / TWO_32));
  }

  /** A safe integer as an int64 varint (two's complement for negatives). */
  i64n(v: number): void {
    if (v >= 0) {
      this.u64n(v);
      return;
    }
    const a = -v;
    let lo = a >>> 0;
    let hi = Math.floor(a / TWO_32) >>> 0;
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    this.varint64(lo, hi);
  }

  /** A bigint in 0..2^64-1 (checked by the caller) as a uint64 varint. */
  u64(v: bigint): void {
    if (v <= MAX_SAFE_BIG) this.u64n(Number(v));
    else this.varint64(Number(v & LOW_32), Number(v >> 32n));
  }

  /** A bigint in -2^63..2^63-1 (checked by the caller) as an int64 varint. */
  i64(v: bigint): void {
    this.u64(BigInt.asUintN(64, v));
  }

  /** A length-prefixed UTF-8 string (lone surrogates become U+FFFD, as TextEncoder does). */
  string(s: string): void {
    const n = s.length;
    if (n > SHORT_STRING) {
      this.longString(s);
      return;
    }
    // n <= 42 UTF-16 units are at most 126 UTF-8 bytes: the length fits in one byte.
    this.ensure(1 + n * 3);
    const b = this.buf;
    const at = this.pos;
    let p = at + 1;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        b[p++] = c;
      } else if (c < 0x800) {
        b[p++] = 0xc0 | (c >> 6);
        b[p++] = 0x80 | (c & 63);
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
          if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
            c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
            i++;
            b[p++] = 0xf0 | (c >> 18);
            b[p++] = 0x80 | ((c >> 12) & 63);
            b[p++] = 0x80 | ((c >> 6) & 63);
            b[p++] = 0x80 | (c & 63);
            continue;
          }
          c = 0xfffd;
        }
        b[p++] = 0xe0 | (c >> 12);
        b[p++] = 0x80 | ((c >> 6) & 63);
        b[p++] = 0x80 | (c & 63);
      }
    }
    b[at] = p - at - 1;
    this.pos = p;
  }

  private longString(s: string): void {
    const max = s.length * 3;
    const room = varintSize(max);
    this.ensure(room + max);
    const start = this.pos + room;
    const { written } = utf8.encodeInto(s, this.buf.subarray(start, start + max));
    const size = varintSize(written);
    if (size < room) this.buf.copyWithin(this.pos + size, start, start + written);
    this.varint32(written);
    this.pos += written;
  }

  /** Length-prefixed bytes. */
  bytes(v: Uint8Array): void {
    this.varint32(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Reserves one byte for the length of a nested message; its position, for join(). */
  fork(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Writes the length of what was written since fork(at), moving the content if the length needs more bytes. */
  join(at: number): void {
    const len = this.pos - at - 1;
    if (len < 128) {
      (this.buf as Uint8Array)[at] = len;
      return;
    }
    const extra = varintSize(len) - 1;
    this.ensure(extra);
    const b = this.buf;
    b.copyWithin(at + 1 + extra, at + 1, this.pos);
    this.pos += extra;
    let p = at;
    let v = len;
    while (v > 127) {
      b[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    b[p] = v;
  }
}

// ---- value checks of the generated encoders: a value its field cannot carry is a bug of the sender ----

export function checkUint32(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
    throw new RangeError(`${path} must be an integer 0..2^32-1, got ${String(v)}`);
  }
  return v;
}

export function checkInt32(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x8000_0000 || v > 0x7fff_ffff) {
    throw new RangeError(`${path} must be an integer -2^31..2^31-1, got ${String(v)}`);
  }
  return v;
}

export function checkU64(v: unknown, path: string): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
    throw new RangeError(`${path} must be a bigint 0..2^64-1, got ${String(v)}`);
  }
  return v;
}

export function checkI64(v: unknown, path: string): bigint {
  if (typeof v !== 'bigint' || v < I64_MIN || v > I64_MAX) {
    throw new RangeError(`${path} must be a bigint -2^63..2^63-1, got ${String(v)}`);
  }
  return v;
}

export function checkU64n(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${path} must be a non-negative safe integer, got ${String(v)}`);
  }
  return v;
}

export function checkI64n(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new RangeError(`${path} must be a safe integer, got ${String(v)}`);
  }
  return v;
}

export function checkString(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new TypeError(`${path} must be a string`);
  return v;
}

export function checkBytes(v: unknown, path: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${path} must be a Uint8Array`);
  return v;
}

export function checkBool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${path} must be a boolean`);
  return v;
}

export function checkList(v: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(v)) throw new TypeError(`${path} must be an array`);
  return v;
}

export { SAFE_HIGH, TWO_32 };
