/**
 * Protobuf reader of the generated codecs (src/gen). Every read is bounds-checked against the end
 * of the input; a nested message must end exactly where its length says. Caps of DecodeLimits
 * (protocol.md §6 Limits and abuse) are applied as fields are read, so an oversized body is refused
 * before its values are built. Errors are DecodeError; the codec turns them into BAD_REQUEST.
 */

/** Field-size caps applied while decoding (protocol.md §6 Limits); unset means uncapped. */
export interface DecodeLimits {
  /** Longest string field, in UTF-16 code units. */
  maxStringLength?: number;
  /** Longest bytes field, in bytes. */
  maxBytesLength?: number;
  /** Most entries of a repeated field. */
  maxRepeated?: number;
  /** Deepest nesting of messages and (unknown, skipped) groups; deeper input is refused. Default 100. */
  maxDepth?: number;
}

export const DEFAULT_MAX_DEPTH = 100;

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

const TWO_32 = 0x1_0000_0000;
const SAFE_HIGH = 0x1f_ffff;
/** Strings up to this many bytes are decoded by the ASCII loop below when they are ASCII. */
const SHORT_STRING = 32;
const EMPTY = new Uint8Array(0);

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class Reader {
  buf: Uint8Array;
  pos: number;
  end: number;
  /** The halves of the last varint64(), unsigned. */
  lo = 0;
  hi = 0;

  constructor(buf: Uint8Array = EMPTY) {
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
  }

  reset(buf: Uint8Array): void {
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
  }

  private truncated(): DecodeError {
    return new DecodeError(`truncated at byte ${this.pos} of ${this.end}`);
  }

  /** A varint's low 32 bits, unsigned (tags, lengths, uint32; int32 is `| 0` of it). */
  varint32(): number {
    const b = this.buf;
    if (this.pos >= this.end) throw this.truncated();
    let byte = b[this.pos++] as number;
    if (byte < 128) return byte;
    let v = byte & 127;
    for (let shift = 7; shift < 70; shift += 7) {
      if (this.pos >= this.end) throw this.truncated();
      byte = b[this.pos++] as number;
      if (shift < 32) v |= (byte & 127) << shift;
      if (byte < 128) return v >>> 0;
    }
    throw new DecodeError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** A 64-bit varint into this.lo / this.hi (unsigned halves). */
  varint64(): void {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    let byte = 0;
    for (let i = 0; i < 4; i++) {
      if (this.pos >= this.end) throw this.truncated();
      byte = b[this.pos++] as number;
      lo |= (byte & 127) << (i * 7);
      if (byte < 128) {
        this.lo = lo >>> 0;
        this.hi = 0;
        return;
      }
    }
    if (this.pos >= this.end) throw this.truncated();
    byte = b[this.pos++] as number;
    lo |= (byte & 127) << 28;
    hi = (byte & 127) >> 4;
    if (byte < 128) {
      this.lo = lo >>> 0;
      this.hi = hi;
      return;
    }
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw this.truncated();
      byte = b[this.pos++] as number;
      hi |= (byte & 127) << (i * 7 + 3);
      if (byte < 128) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw new DecodeError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  int32(): number {
    return this.varint32() | 0;
  }

  bool(): boolean {
    this.varint64();
    return (this.lo | this.hi) !== 0;
  }

  u64(): bigint {
    this.varint64();
    const { lo, hi } = this;
    if (hi <= SAFE_HIGH) return BigInt(hi * TWO_32 + lo);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  i64(): bigint {
    return BigInt.asIntN(64, this.u64());
  }

  /** uint64 as a number; a value above Number.MAX_SAFE_INTEGER is refused. */
  u64n(path: string): number {
    this.varint64();
    const { lo, hi } = this;
    if (hi <= SAFE_HIGH) return hi * TWO_32 + lo;
    throw new DecodeError(`${path} is ${(BigInt(hi) << 32n) | BigInt(lo)}, above Number.MAX_SAFE_INTEGER`);
  }

  /** int64 as a number; a value outside the safe integer range is refused. */
  i64n(path: string): number {
    this.varint64();
    const { lo, hi } = this;
    if (hi < 0x8000_0000) {
      if (hi <= SAFE_HIGH) return hi * TWO_32 + lo;
    } else {
      const nhi = ~hi >>> 0;
      const nlo = ~lo >>> 0;
      // -(magnitude); the magnitude is exact below 2^53 and -2^53 itself is not safe.
      if (nhi <= SAFE_HIGH) {
        const magnitude = nhi * TWO_32 + nlo + 1;
        if (magnitude <= Number.MAX_SAFE_INTEGER) return -magnitude;
      }
    }
    const big = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
    throw new DecodeError(`${path} is ${big}, outside the safe integer range`);
  }

  /** The end of a length-delimited field that starts here (its length read, bounds checked). */
  delimited(): number {
    const len = this.varint32();
    const end = this.pos + len;
    if (end > this.end)
      throw new DecodeError(`length ${len} at byte ${this.pos} runs past the end (${this.end})`);
    return end;
  }

  string(path: string, lim: DecodeLimits): string {
    const end = this.delimited();
    const start = this.pos;
    const len = end - start;
    this.pos = end;
    if (len === 0) return '';
    const b = this.buf;
    let s: string | undefined;
    if (len <= SHORT_STRING) {
      s = '';
      for (let i = start; i < end; i++) {
        const c = b[i] as number;
        if (c >= 0x80) {
          s = undefined;
          break;
        }
        s += String.fromCharCode(c);
      }
    }
    if (s === undefined) {
      try {
        s = utf8.decode(b.subarray(start, end));
      } catch {
        throw new DecodeError(`${path} is not valid UTF-8`);
      }
    }
    // UTF-16 units never outnumber UTF-8 bytes: only a long byte string can break the cap.
    const max = lim.maxStringLength;
    if (max !== undefined && len > max && s.length > max) {
      throw new DecodeError(`${path} has ${s.length} characters; the limit is ${max}`);
    }
    return s;
  }

  /** A copy (a plain Uint8Array that does not keep the input alive). */
  bytes(path: string, lim: DecodeLimits): Uint8Array {
    const end = this.delimited();
    const len = end - this.pos;
    const max = lim.maxBytesLength;
    if (max !== undefined && len > max)
      throw new DecodeError(`${path} has ${len} bytes; the limit is ${max}`);
    return this.copy(end);
  }

  /** An embedded message kept encoded (a field marked `(im.internal.encoded)`): its bytes, copied. */
  encoded(): Uint8Array {
    return this.copy(this.delimited());
  }

  private copy(end: number): Uint8Array {
    const out = new Uint8Array(end - this.pos);
    out.set(this.buf.subarray(this.pos, end));
    this.pos = end;
    return out;
  }

  /** Refuses one more entry of a repeated field past maxRepeated. */
  count(n: number, path: string, lim: DecodeLimits): void {
    const max = lim.maxRepeated;
    if (max !== undefined && n > max) throw new DecodeError(`${path} has ${n} entries; the limit is ${max}`);
  }

  /** The depth of a nested message or group about to be entered, refused past maxDepth. */
  deeper(depth: number, lim: DecodeLimits): number {
    const next = depth + 1;
    if (next > (lim.maxDepth ?? DEFAULT_MAX_DEPTH)) {
      throw new DecodeError(
        `nesting depth ${next} exceeds the limit of ${lim.maxDepth ?? DEFAULT_MAX_DEPTH}`,
      );
    }
    return next;
  }

  /** After a nested message: it must have ended exactly at its declared end. */
  ended(end: number): void {
    if (this.pos !== end)
      throw new DecodeError(`nested message overran its length (byte ${this.pos}, end ${end})`);
  }

  /** A field this schema does not know (or of another wire type): skipped, groups included. */
  skip(tag: number, depth: number, lim: DecodeLimits): void {
    if (tag >>> 3 === 0) throw new DecodeError(`invalid field number 0 at byte ${this.pos}`);
    switch (tag & 7) {
      case 0:
        this.varint64();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.pos = this.delimited();
        return;
      case 3: {
        const inner = this.deeper(depth, lim);
        for (;;) {
          const t = this.varint32();
          if ((t & 7) === 4) {
            if (t >>> 3 !== tag >>> 3) throw new DecodeError(`mismatched end group at byte ${this.pos}`);
            return;
          }
          this.skip(t, inner, lim);
        }
      }
      case 5:
        this.advance(4);
        return;
      default:
        throw new DecodeError(`invalid wire type ${tag & 7} at byte ${this.pos}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw this.truncated();
    this.pos += n;
  }
}
