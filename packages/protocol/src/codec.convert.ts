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
import { Status } from './status.js';

/**
 * Plain body values (bodies.ts) ↔ the objects the generated protobufjs code encodes and decodes.
 * encode side: proto3 defaults are left out (canonical bytes) and every value is checked against
 * what its field can carry. decode side: defaults are filled in, the DecodeLimits are applied and
 * bytes are copied. The generic converter below follows a schema (schema.ts); codec.hot.ts holds
 * hand-written converters with the same behaviour for the bodies sent per message.
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

export type Plain = Record<string, unknown>;

/** Both directions for one body type. */
export interface Converter {
  toGenerated(value: Plain): Plain;
  fromGenerated(m: Plain, limits: DecodeLimits): Plain;
}

// ---- scalars: the one definition of each field kind, shared by both converters ----
// Encoders return the value to hand to the generated encoder, or undefined for a proto3 default.

export function encodeString(v: unknown, path: string): string | undefined {
  if (typeof v !== 'string') throw new TypeError(`${path} must be a string`);
  return v === '' ? undefined : v;
}

export function encodeBytes(v: unknown, path: string): Uint8Array | undefined {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${path} must be a Uint8Array`);
  return v.length === 0 ? undefined : v;
}

export function encodeBool(v: unknown): true | undefined {
  return v === true ? true : undefined;
}

export function encodeUint32(v: unknown, path: string): number | undefined {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) {
    throw new RangeError(`${path} must be an integer 0..2^32-1, got ${String(v)}`);
  }
  return v === 0 ? undefined : (v as number);
}

export function encodeStrings(v: unknown, path: string): string[] | undefined {
  const list = v as unknown[];
  if (!list.every((s) => typeof s === 'string')) throw new TypeError(`${path} must hold strings`);
  return list.length > 0 ? ([...list] as string[]) : undefined;
}

export function encodeU64(v: unknown, path: string): unknown {
  const wire = bigintToU64(v as bigint, path); // validates even a 0n
  return v === 0n ? undefined : wire;
}

export function encodeU64n(v: unknown, path: string): unknown {
  const wire = numberToU64(v as number, path);
  return v === 0 ? undefined : wire;
}

export function encodeI64n(v: unknown, path: string): unknown {
  const wire = numberToI64(v as number, path);
  return v === 0 ? undefined : wire;
}

// Decoders return the plain value with its proto3 default filled in.

export function decodeString(v: unknown, path: string, limits: DecodeLimits): string {
  return capString((v ?? '') as string, path, limits);
}

const EMPTY_BYTES = new Uint8Array(0);

export function decodeBytes(v: unknown, path: string, limits: DecodeLimits): Uint8Array {
  const bytes = (v ?? EMPTY_BYTES) as Uint8Array;
  if (limits.maxBytesLength !== undefined && bytes.length > limits.maxBytesLength) {
    throw tooLong(path, `${bytes.length} bytes`, limits.maxBytesLength);
  }
  return new Uint8Array(bytes); // a copy: plain Uint8Array, not a view into the frame
}

export function decodeBool(v: unknown): boolean {
  return v === true;
}

export function decodeUint32(v: unknown): number {
  return (v ?? 0) as number;
}

export function decodeStrings(v: unknown, path: string, limits: DecodeLimits): string[] {
  const list = (v ?? []) as string[];
  capCount(list.length, path, limits);
  return list.map((s) => capString(s, path, limits));
}

export function decodeU64(v: unknown): bigint {
  return u64ToBigint((v ?? 0) as LongLike);
}

export function decodeU64n(v: unknown, path: string): number {
  return u64ToNumber((v ?? 0) as LongLike, path);
}

export function decodeI64n(v: unknown, path: string): number {
  return i64ToNumber((v ?? 0) as LongLike, path);
}

export function capCount(n: number, path: string, limits: DecodeLimits): void {
  if (limits.maxRepeated !== undefined && n > limits.maxRepeated) {
    throw tooLong(path, `${n} entries`, limits.maxRepeated);
  }
}

function capString(s: string, path: string, limits: DecodeLimits): string {
  if (limits.maxStringLength !== undefined && s.length > limits.maxStringLength) {
    throw tooLong(path, `${s.length} characters`, limits.maxStringLength);
  }
  return s;
}

function tooLong(path: string, what: string, limit: number): ImError {
  return new ImError(Status.BAD_REQUEST, `${path} has ${what}; the limit is ${limit}`);
}

// ---- the generic converter ----

type Kind = ScalarKind | { message: MessageSchema<unknown> } | { repeated: MessageSchema<unknown> };
type FieldEncoder = (v: unknown, path: string) => unknown;
/** Undefined only for an absent nested message. */
type FieldDecoder = (v: unknown, path: string, limits: DecodeLimits) => unknown;

/**
 * One field of a schema, resolved once: the per-call work is a loop over these, with no
 * Object.entries, no switch on the kind and no path strings built per value.
 */
interface Field {
  key: string;
  /** `Message.from`: names the field in errors. */
  path: string;
  encode: FieldEncoder;
  decode: FieldDecoder;
}

const SCALAR_ENCODERS: Record<ScalarKind, FieldEncoder> = {
  string: encodeString,
  bytes: encodeBytes,
  bool: encodeBool,
  uint32: encodeUint32,
  strings: encodeStrings,
  u64: encodeU64,
  u64n: encodeU64n,
  i64n: encodeI64n,
};

const SCALAR_DECODERS: Record<ScalarKind, FieldDecoder> = {
  string: decodeString,
  bytes: decodeBytes,
  bool: decodeBool,
  uint32: decodeUint32,
  strings: decodeStrings,
  u64: decodeU64,
  u64n: decodeU64n,
  i64n: decodeI64n,
};

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

/** The converter that follows `schema`, field by field in the schema's order. */
export function genericConverter(schema: MessageSchema<unknown>): Converter {
  const fields = fieldsOf(schema);
  return {
    toGenerated: (value) => toGenerated(fields, value),
    fromGenerated: (m, limits) => fromGenerated(fields, m, limits),
  };
}
