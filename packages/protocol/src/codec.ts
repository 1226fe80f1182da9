import * as gen from './gen/im.js';
import type { Input, MessageType } from './pb/index.js';

/**
 * Body codec (protocol.md §5): plain values (bodies.ts) ↔ protobuf bytes, by the codecs generated
 * from proto/im.proto (scripts/gen-proto.mjs → src/gen, runtime in src/pb). Encoding is canonical
 * proto3 (default-valued fields are left out), so bytes match other protobuf implementations.
 * Decoded values own their bytes fields (copied, never views into the frame).
 */

export type { DecodeLimits } from './pb/index.js';

/** What encode accepts: any field may be left out, nested messages too (defaults apply). */
export type BodyInput<T> = Input<T>;

/**
 * encode throws RangeError/TypeError for a value a field cannot carry (a bug on the sender's side);
 * decode throws ImError(BAD_REQUEST) naming the body type (and the field, for a limit).
 */
export type BodyCodec<T> = MessageType<T>;

/** One codec per body of protocol.md §5. */
export const codec = {
  Message: gen.Message,
  MessageContent: gen.MessageContent,
  Conversation: gen.Conversation,
  LoginRequest: gen.LoginRequest,
  LoginResponse: gen.LoginResponse,
  SendAck: gen.SendAck,
  PullRequest: gen.PullRequest,
  PullResponse: gen.PullResponse,
  Notify: gen.Notify,
  RecallRequest: gen.RecallRequest,
  ChatroomRequest: gen.ChatroomRequest,
  ErrorInfo: gen.ErrorInfo,
} as const;

export type CodecName = keyof typeof codec;
/** The body type a codec decodes to, e.g. `BodyOf<'Message'>`. */
export type BodyOf<N extends CodecName> = (typeof codec)[N] extends BodyCodec<infer T> ? T : never;
