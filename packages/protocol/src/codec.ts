import protobuf from 'protobufjs/minimal.js';
import { type Converter, type DecodeLimits, genericConverter, type Plain } from './codec.convert.js';
import { messageConverter, pullResponseConverter, sendAckConverter } from './codec.hot.js';
import { ImError } from './errors.js';
import type { MessageSchema } from './schema.js';
import * as S from './schema.js';
import { Status } from './status.js';

/**
 * Body codec (protocol.md §5): plain values (bodies.ts) ↔ protobuf bytes, through the generated code.
 * Encoding is canonical proto3 (default-valued fields are left out), so bytes match other protobuf
 * implementations. Decoded values own their bytes fields (copied, never views into the frame).
 * The conversions live in codec.convert.ts (generic, by schema) and codec.hot.ts (per message).
 */

export type { DecodeLimits } from './codec.convert.js';

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

function makeCodec<T>(schema: MessageSchema<T>, converter?: Converter): BodyCodec<T> {
  const s = schema as MessageSchema<unknown>;
  const convert = converter ?? genericConverter(s);
  return {
    name: schema.name,
    encode(value) {
      const out = s.gen.encode(convert.toGenerated(value as Plain) as never).finish();
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
      return convert.fromGenerated(decoded as Plain, limits) as T;
    },
  };
}

/** One codec per body of protocol.md §5. */
export const codec = {
  Message: makeCodec(S.Message, messageConverter),
  MessageContent: makeCodec(S.MessageContent),
  Conversation: makeCodec(S.Conversation),
  LoginRequest: makeCodec(S.LoginRequest),
  LoginResponse: makeCodec(S.LoginResponse),
  SendAck: makeCodec(S.SendAck, sendAckConverter),
  PullRequest: makeCodec(S.PullRequest),
  PullResponse: makeCodec(S.PullResponse, pullResponseConverter),
  Notify: makeCodec(S.Notify),
  RecallRequest: makeCodec(S.RecallRequest),
  ChatroomRequest: makeCodec(S.ChatroomRequest),
  ErrorInfo: makeCodec(S.ErrorInfo),
} as const;

export type CodecName = keyof typeof codec;
/** The body type a codec decodes to, e.g. `BodyOf<'Message'>`. */
export type BodyOf<N extends CodecName> = (typeof codec)[N] extends BodyCodec<infer T> ? T : never;
