import { ImError } from '../errors.js';
import { Status } from '../status.js';
import { DecodeError, type DecodeLimits, Reader } from './reader.js';
import { Writer } from './writer.js';

/**
 * What encode accepts: any field may be left out (proto3 default), nested messages too. An absent
 * nested message is not written; a present one is, even when empty.
 */
export type Input<T> = {
  [K in keyof T]?: T[K] extends bigint | number | string | boolean | Uint8Array | undefined
    ? T[K]
    : T[K] extends readonly (infer E)[]
      ? E extends string | number | bigint | boolean | Uint8Array
        ? readonly E[]
        : readonly Input<E>[]
      : Input<NonNullable<T[K]>>;
};

/** One generated message type (src/gen): its codec, under the message's own name. */
export interface MessageType<T> {
  readonly name: string;
  /** Writes the fields of `m` (no length prefix). Throws RangeError/TypeError for a value its field cannot carry. */
  write(w: Writer, m: Input<T>): void;
  /** Reads fields up to `end` into `into` (protobuf merge semantics) or a new value with proto3 defaults. */
  read(r: Reader, end: number, lim: DecodeLimits, depth: number, into?: T): T;
  /** Canonical proto3 bytes (defaults left out), in a buffer of their own. */
  encode(m: Input<T>): Uint8Array;
  /** Throws ImError(BAD_REQUEST) naming the type for bytes that are not a valid body of it. */
  decode(bytes: Uint8Array, lim?: DecodeLimits): T;
}

/** Encodes are synchronous and never nest: one scratch buffer serves them all. */
const scratch = new Writer(16 * 1024);
/** A scratch grown past this by one large body is let go afterwards. */
const SCRATCH_KEEP = 1024 * 1024;
const reader = new Reader();
const NO_LIMITS: DecodeLimits = {};

export function messageType<T>(
  name: string,
  write: (w: Writer, m: Input<T>) => void,
  read: (r: Reader, end: number, lim: DecodeLimits, depth: number, into?: T) => T,
): MessageType<T> {
  return {
    name,
    write,
    read,
    encode(m) {
      const w = scratch;
      w.pos = 0;
      write(w, m);
      const out = w.finish();
      if (w.buf.length > SCRATCH_KEEP) w.buf = new Uint8Array(16 * 1024);
      return out;
    },
    decode(bytes, lim = NO_LIMITS) {
      // A decode cannot nest in another (encoded fields stay bytes), so one reader serves them all.
      const r = reader;
      r.reset(bytes);
      try {
        return read(r, r.end, lim, 0);
      } catch (err) {
        if (err instanceof DecodeError) {
          throw new ImError(Status.BAD_REQUEST, `invalid ${name} body: ${err.message}`, { cause: err });
        }
        throw err;
      } finally {
        r.reset(EMPTY);
      }
    },
  };
}

const EMPTY = new Uint8Array(0);

/** Writes a nested message field: tag, then the message behind a length prefix. */
export function writeNested<T>(w: Writer, tag: number, type: MessageType<T>, m: Input<T>): void {
  w.varint32(tag);
  const at = w.fork();
  type.write(w, m);
  w.join(at);
}

/** Reads a nested message field (its tag already read), merging into `into` when given. */
export function readNested<T>(
  r: Reader,
  type: MessageType<T>,
  lim: DecodeLimits,
  depth: number,
  into?: T,
): T {
  const end = r.delimited();
  const inner = r.deeper(depth, lim);
  const m = type.read(r, end, lim, inner, into);
  r.ended(end);
  return m;
}
