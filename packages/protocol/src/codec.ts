import protobuf from 'protobufjs/minimal.js';
import { ImError } from './errors.js';
import {
  bigintToU64,
  i64ToNumber,
  type LongLike,
  numberToI64,
  numberToU64,
  u64ToBigint,
  u64ToNumber,
} from './long.js';
import type { MessageSchema, ScalarKind } from './schema.js';
import * as S from './schema.js';
import { Status } from './status.js';

/**
 * Body codec (protocol.md §5): plain values (bodies.ts) ↔ protobuf bytes, through the generated code.
 * Encoding is canonical proto3 (default-valued fields are left out), so bytes match other protobuf
 * implementations. Decoded values own their bytes fields (copied, never views into the frame).
 */

/** Field-size caps applied while decoding (protocol.md §6 Limits); unset means uncapped. */
export interface DecodeLimits {
  /** Longest string field, in UTF-16 code units. */
  maxStringLength?: number;
  /** Longest bytes field, in bytes. */
  maxBytesLength?: number;
  /** Most entries of a repeated field. */
  maxRepeated?: number;
  /**
   * Deepest nesting of messages and (unknown, skipped) groups protobufjs will follow; deeper input
   * is BAD_REQUEST instead of a deep recursion. Unset: protobufjs's own limit (100).
   */
  maxDepth?: number;
}

/** What encode accepts: any field may be left out, nested messages too (defaults apply). */
export type BodyInput<T> = {
  [K in keyof T]?: T[K] extends bigint | number | string | boolean | Uint8Array | undefined
    ? T[K]
    : T[K] extends readonly (infer E)[]
      ? E extends string
        ? E[]
        : BodyInput<E>[]
      : BodyInput<NonNullable<T[K]>>;
};

export interface BodyCodec<T> {
  readonly name: string;
  /** Throws RangeError/TypeError for a value the field cannot carry (a bug on the sender's side). */
  encode(value: BodyInput<T>): Uint8Array;
  /** Throws ImError(BAD_REQUEST) for bytes that are not a valid body of this type. */
  decode(bytes: Uint8Array, limits?: DecodeLimits): T;
}

type Kind = ScalarKind | { message: MessageSchema<unknown> } | { repeated: MessageSchema<unknown> };
type Plain = Record<string, unknown>;

/** Plain value → what the generated encoder takes, or undefined to leave a proto3 default out. */
type FieldEncoder = (v: unknown, path: string) => unknown;
/** Generated value → the plain value with its proto3 default filled in (undefined: absent message). */
type FieldDecoder = (v: unknown, path: string, limits: DecodeLimits) => unknown;

/**
 * One field of a schema, resolved once when the codecs are built: the per-call work is a loop over
 * these, with no Object.entries, no switch on the kind and no path strings built per value.
 */
interface Field {
  key: string;
  /** `Message.from`: names the field in errors. */
  path: string;
  encode: FieldEncoder;
  decode: FieldDecoder;
}

const compiled = new WeakMap<MessageSchema<unknown>, readonly Field[]>();

function fieldsOf(schema: MessageSchema<unknown>): readonly Field[] {
  let fields = compiled.get(schema);
  if (!fields) {
    fields = Object.entries(schema.fields as Record<string, Kind>).map(([key, kind]) =>
      compileField(`${schema.name}.${key}`, key, kind),
    );
    compiled.set(schema, fields);
  }
  return fields;
}

function compileField(path: string, key: string, kind: Kind): Field {
  if (typeof kind === 'object') {
    if ('message' in kind) {
      const nested = fieldsOf(kind.message);
      return {
        key,
        path,
        encode: (v) => toGenerated(nested, v as Plain),
        decode: (v, _path, limits) => (v == null ? undefined : fromGenerated(nested, v as Plain, limits)),
      };
    }
    const element = fieldsOf(kind.repeated);
    return {
      key,
      path,
      encode: (v) => {
        const list = v as Plain[];
        return list.length > 0 ? list.map((e) => toGenerated(element, e)) : undefined;
      },
      decode: (v, p, limits) => {
        const list = (v ?? []) as Plain[];
        capCount(list.length, p, limits);
        return list.map((e) => fromGenerated(element, e, limits));
      },
    };
  }
  return { key, path, encode: SCALAR_ENCODERS[kind], decode: SCALAR_DECODERS[kind] };
}

function toGenerated(fields: readonly Field[], value: Plain): Plain {
  const out: Plain = {};
  for (const f of fields) {
    const v = value[f.key];
    if (v === undefined || v === null) continue;
    const encoded = f.encode(v, f.path);
    if (encoded !== undefined) out[f.key] = encoded;
  }
  return out;
}

function fromGenerated(fields: readonly Field[], m: Plain, limits: DecodeLimits): Plain {
  const out: Plain = {};
  for (const f of fields) {
    const v = f.decode(m[f.key], f.path, limits);
    if (v !== undefined) out[f.key] = v;
  }
  return out;
}

const SCALAR_ENCODERS: Record<ScalarKind, FieldEncoder> = {
  string: (v, path) => {
    if (typeof v !== 'string') throw new TypeError(`${path} must be a string`);
    return v === '' ? undefined : v;
  },
  bytes: (v, path) => {
    if (!(v instanceof Uint8Array)) throw new TypeError(`${path} must be a Uint8Array`);
    return v.length === 0 ? undefined : v;
  },
  bool: (v) => (v === true ? true : undefined),
  uint32: (v, path) => {
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) {
      throw new RangeError(`${path} must be an integer 0..2^32-1, got ${String(v)}`);
    }
    return v === 0 ? undefined : v;
  },
  strings: (v, path) => {
    const list = v as unknown[];
    if (!list.every((s) => typeof s === 'string')) throw new TypeError(`${path} must hold strings`);
    return list.length > 0 ? [...list] : undefined;
  },
  u64: (v, path) => {
    const wire = bigintToU64(v as bigint, path); // validates even a 0n
    return v === 0n ? undefined : wire;
  },
  u64n: (v, path) => {
    const wire = numberToU64(v as number, path);
    return v === 0 ? undefined : wire;
  },
  i64n: (v, path) => {
    const wire = numberToI64(v as number, path);
    return v === 0 ? undefined : wire;
  },
};

const EMPTY_BYTES = new Uint8Array(0);

const SCALAR_DECODERS: Record<ScalarKind, FieldDecoder> = {
  string: (v, path, limits) => capString((v ?? '') as string, path, limits),
  bytes: (v, path, limits) => {
    const bytes = (v ?? EMPTY_BYTES) as Uint8Array;
    if (limits.maxBytesLength !== undefined && bytes.length > limits.maxBytesLength) {
      throw tooLong(path, `${bytes.length} bytes`, limits.maxBytesLength);
    }
    return new Uint8Array(bytes); // a copy: plain Uint8Array, not a view into the frame
  },
  bool: (v) => v === true,
  uint32: (v) => (v ?? 0) as number,
  strings: (v, path, limits) => {
    const list = (v ?? []) as string[];
    capCount(list.length, path, limits);
    return list.map((s) => capString(s, path, limits));
  },
  u64: (v) => u64ToBigint((v ?? 0) as LongLike),
  u64n: (v, path) => u64ToNumber((v ?? 0) as LongLike, path),
  i64n: (v, path) => i64ToNumber((v ?? 0) as LongLike, path),
};

function capString(s: string, path: string, limits: DecodeLimits): string {
  if (limits.maxStringLength !== undefined && s.length > limits.maxStringLength) {
    throw tooLong(path, `${s.length} characters`, limits.maxStringLength);
  }
  return s;
}

function capCount(n: number, path: string, limits: DecodeLimits): void {
  if (limits.maxRepeated !== undefined && n > limits.maxRepeated) {
    throw tooLong(path, `${n} entries`, limits.maxRepeated);
  }
}

function tooLong(path: string, what: string, limit: number): ImError {
  return new ImError(Status.BAD_REQUEST, `${path} has ${what}; the limit is ${limit}`);
}

function makeCodec<T>(schema: MessageSchema<T>): BodyCodec<T> {
  const s = schema as MessageSchema<unknown>;
  const fields = fieldsOf(s);
  return {
    name: schema.name,
    encode(value) {
      const out = s.gen.encode(toGenerated(fields, value as Plain) as never).finish();
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    },
    decode(bytes, limits = {}) {
      let decoded: unknown;
      // Decoding is synchronous, so the process-wide recursion limit can be set for this call alone.
      const savedDepth = protobuf.Reader.recursionLimit;
      if (limits.maxDepth !== undefined) protobuf.Reader.recursionLimit = limits.maxDepth;
      try {
        decoded = s.gen.decode(bytes);
      } catch (err) {
        throw new ImError(Status.BAD_REQUEST, `invalid ${schema.name} body: ${(err as Error).message}`, {
          cause: err,
        });
      } finally {
        protobuf.Reader.recursionLimit = savedDepth;
      }
      return fromGenerated(fields, decoded as Plain, limits) as T;
    },
  };
}

/** One codec per body of protocol.md §5. */
export const codec = {
  Message: makeCodec(S.Message),
  MessageContent: makeCodec(S.MessageContent),
  Conversation: makeCodec(S.Conversation),
  LoginRequest: makeCodec(S.LoginRequest),
  LoginResponse: makeCodec(S.LoginResponse),
  SendAck: makeCodec(S.SendAck),
  PullRequest: makeCodec(S.PullRequest),
  PullResponse: makeCodec(S.PullResponse),
  Notify: makeCodec(S.Notify),
  RecallRequest: makeCodec(S.RecallRequest),
  ChatroomRequest: makeCodec(S.ChatroomRequest),
  ErrorInfo: makeCodec(S.ErrorInfo),
} as const;

export type CodecName = keyof typeof codec;
/** The body type a codec decodes to, e.g. `BodyOf<'Message'>`. */
export type BodyOf<N extends CodecName> = (typeof codec)[N] extends BodyCodec<infer T> ? T : never;
