/**
 * protocol.md §5: Message.seq is field 8, the last field of Message. So a Message encoded without
 * its seq, followed by the seq field, is byte for byte the canonical encoding with it: the server
 * encodes a delivered message once and adds each recipient's seq behind it (MPS bodies), instead
 * of encoding it once per recipient.
 */

/** Tag of Message.seq: field 8, varint. */
const SEQ_TAG = (8 << 3) | 0;
const NONE = new Uint8Array(0);

/** The encoded seq field (empty for 0, a proto3 default). */
export function seqField(seq: number): Uint8Array {
  if (seq === 0) return NONE;
  if (!Number.isSafeInteger(seq) || seq < 0)
    throw new RangeError(`seq must be a non-negative safe integer, got ${seq}`);
  const out = new Uint8Array(1 + varintSize(seq));
  out[0] = SEQ_TAG;
  let p = 1;
  let v = seq;
  while (v >= 128) {
    out[p++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[p] = v;
  return out;
}

/** The size of seqField(seq), without building it. */
export function seqFieldSize(seq: number): number {
  return seq === 0 ? 0 : 1 + varintSize(seq);
}

/** A Message encoded without seq, with `seq` added: one buffer (for sealing or a single write). */
export function withSeq(encoded: Uint8Array, seq: number): Uint8Array {
  if (seq === 0) return encoded;
  const tail = seqField(seq);
  const out = new Uint8Array(encoded.length + tail.length);
  out.set(encoded, 0);
  out.set(tail, encoded.length);
  return out;
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}
