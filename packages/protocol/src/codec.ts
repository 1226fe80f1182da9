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

function fieldsOf(schema: MessageSchema<unknown>): [string, Kind][] {
  return Object.entries(schema.fields as Record<string, Kind>);
}

function toGenerated(schema: MessageSchema<unknown>, value: Plain): Plain {
  const out: Plain = {};
  for (const [key, kind] of fieldsOf(schema)) {
    const v = value[key];
    if (v === undefined || v === null) continue;
    const path = `${schema.name}.${key}`;
    const encoded = encodeField(kind, v, path);
    if (encoded !== undefined) out[key] = encoded;
  }
  return out;
}

/** The value to hand to the generated encoder, or undefined to leave a proto3 default out. */
function encodeField(kind: Kind, v: unknown, path: string): unknown {
  if (typeof kind === 'object') {
    if ('message' in kind) return toGenerated(kind.message, v as Plain);
    const list = v as Plain[];
    return list.length > 0 ? list.map((e) => toGenerated(kind.repeated, e)) : undefined;
  }
  switch (kind) {
    case 'string':
      if (typeof v !== 'string') throw new TypeError(`${path} must be a string`);
      return v === '' ? undefined : v;
    case 'bytes':
      if (!(v instanceof Uint8Array)) throw new TypeError(`${path} must be a Uint8Array`);
      return v.length === 0 ? undefined : v;
    case 'bool':
      return v === true ? true : undefined;
    case 'uint32':
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) {
        throw new RangeError(`${path} must be an integer 0..2^32-1, got ${String(v)}`);
      }
      return v === 0 ? undefined : v;
    case 'strings': {
      const list = v as unknown[];
      if (!list.every((s) => typeof s === 'string')) throw new TypeError(`${path} must hold strings`);
      return list.length > 0 ? [...list] : undefined;
    }
    case 'u64': {
      const long = bigintToU64(v as bigint, path); // validates even a 0n
      return v === 0n ? undefined : long;
    }
    case 'u64n': {
      const long = numberToU64(v as number, path);
      return v === 0 ? undefined : long;
    }
    case 'i64n': {
      const long = numberToI64(v as number, path);
      return v === 0 ? undefined : long;
    }
  }
}

function fromGenerated(schema: MessageSchema<unknown>, m: Plain, limits: DecodeLimits): Plain {
  const out: Plain = {};
  for (const [key, kind] of fieldsOf(schema)) {
    const v = decodeField(kind, m[key], `${schema.name}.${key}`, limits);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** A plain value with its proto3 default filled in; undefined only for an absent nested message. */
function decodeField(kind: Kind, v: unknown, path: string, limits: DecodeLimits): unknown {
  if (typeof kind === 'object') {
    if ('message' in kind) return v == null ? undefined : fromGenerated(kind.message, v as Plain, limits);
    const list = (v ?? []) as Plain[];
    capCount(list.length, path, limits);
    return list.map((e) => fromGenerated(kind.repeated, e, limits));
  }
  switch (kind) {
    case 'string':
      return capString((v ?? '') as string, path, limits);
    case 'bytes': {
      const bytes = (v ?? new Uint8Array(0)) as Uint8Array;
      if (limits.maxBytesLength !== undefined && bytes.length > limits.maxBytesLength) {
        throw tooLong(path, `${bytes.length} bytes`, limits.maxBytesLength);
      }
      return new Uint8Array(bytes); // a copy: plain Uint8Array, not a view into the frame
    }
    case 'bool':
      return v === true;
    case 'uint32':
      return (v ?? 0) as number;
    case 'strings': {
      const list = (v ?? []) as string[];
      capCount(list.length, path, limits);
      return list.map((s) => capString(s, path, limits));
    }
    case 'u64':
      return u64ToBigint((v ?? 0) as LongLike);
    case 'u64n':
      return u64ToNumber((v ?? 0) as LongLike, path);
    case 'i64n':
      return i64ToNumber((v ?? 0) as LongLike, path);
  }
}

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
  return {
    name: schema.name,
    encode(value) {
      const out = s.gen.encode(toGenerated(s, value as Plain) as never).finish();
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
      return fromGenerated(s, decoded as Plain, limits) as T;
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
