import type * as B from './bodies.js';
import { im } from './gen/im.js';

/**
 * How each body field travels (protocol.md §5). The mapped types make the compiler insist that every
 * field of every body type in bodies.ts has a kind matching its TypeScript type.
 */
export type ScalarKind = 'string' | 'bytes' | 'bool' | 'uint32' | 'strings' | 'u64' | 'u64n' | 'i64n';

export type FieldKind<V> = [V] extends [bigint]
  ? 'u64'
  : [V] extends [number]
    ? 'uint32' | 'u64n' | 'i64n'
    : [V] extends [string]
      ? 'string'
      : [V] extends [boolean]
        ? 'bool'
        : [V] extends [Uint8Array]
          ? 'bytes'
          : [V] extends [string[]]
            ? 'strings'
            : [V] extends [(infer E)[]]
              ? { repeated: MessageSchema<E> }
              : { message: MessageSchema<NonNullable<V>> };

/** The generated class, seen only through the two calls the codec makes. */
export interface GeneratedType {
  encode(message: never): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
}

export interface MessageSchema<T> {
  name: string;
  gen: GeneratedType;
  fields: { [K in keyof T]-?: FieldKind<T[K]> };
}

export const Conversation: MessageSchema<B.Conversation> = {
  name: 'Conversation',
  gen: im.Conversation,
  fields: { type: 'uint32', target: 'string' },
};

export const MessageContent: MessageSchema<B.MessageContent> = {
  name: 'MessageContent',
  gen: im.MessageContent,
  fields: {
    contentType: 'uint32',
    searchableContent: 'string',
    pushContent: 'string',
    data: 'bytes',
    mentionedType: 'uint32',
    mentionedTargets: 'strings',
    mediaType: 'uint32',
    msgLength: 'uint32',
    remoteMediaUrl: 'string',
    localMediaPath: 'string',
  },
};

export const Message: MessageSchema<B.Message> = {
  name: 'Message',
  gen: im.Message,
  fields: {
    messageId: 'u64',
    messageContent: { message: MessageContent },
    conversation: { message: Conversation },
    from: 'string',
    to: 'string',
    messageUid: 'u64',
    serverTime: 'i64n',
    seq: 'u64n',
  },
};

export const LoginRequest: MessageSchema<B.LoginRequest> = {
  name: 'LoginRequest',
  gen: im.LoginRequest,
  fields: {
    userId: 'string',
    token: 'string',
    deviceId: 'string',
    platform: 'uint32',
    clientVersion: 'string',
    publicKey: 'bytes',
  },
};

export const LoginResponse: MessageSchema<B.LoginResponse> = {
  name: 'LoginResponse',
  gen: im.LoginResponse,
  fields: { serverTime: 'i64n', heartbeatSeconds: 'uint32', head: 'u64n', sessionId: 'string' },
};

export const SendAck: MessageSchema<B.SendAck> = {
  name: 'SendAck',
  gen: im.SendAck,
  fields: { messageUid: 'u64', serverTime: 'i64n', seq: 'u64n' },
};

export const PullRequest: MessageSchema<B.PullRequest> = {
  name: 'PullRequest',
  gen: im.PullRequest,
  fields: { since: 'u64n', limit: 'uint32', conversation: { message: Conversation }, beforeUid: 'u64' },
};

export const PullResponse: MessageSchema<B.PullResponse> = {
  name: 'PullResponse',
  gen: im.PullResponse,
  fields: { messages: { repeated: Message }, head: 'u64n', hasMore: 'bool' },
};

export const Notify: MessageSchema<B.Notify> = {
  name: 'Notify',
  gen: im.Notify,
  fields: { head: 'u64n' },
};

export const RecallRequest: MessageSchema<B.RecallRequest> = {
  name: 'RecallRequest',
  gen: im.RecallRequest,
  fields: { messageUid: 'u64' },
};

export const ChatroomRequest: MessageSchema<B.ChatroomRequest> = {
  name: 'ChatroomRequest',
  gen: im.ChatroomRequest,
  fields: { chatroomId: 'string' },
};

export const ErrorInfo: MessageSchema<B.ErrorInfo> = {
  name: 'ErrorInfo',
  gen: im.ErrorInfo,
  fields: { message: 'string', retryAfterMs: 'uint32' },
};
