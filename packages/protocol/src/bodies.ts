/**
 * Frame bodies (protocol.md §5) as plain TypeScript values. The codec functions in
 * `codec.ts` convert between these and protobuf bytes using the generated code in `gen/`.
 *
 * uint64 ids (messageId, messageUid, beforeUid) are `bigint`: a snowflake-style uid does
 * not fit in a double. seq, head, since and times are `number`; a decoded value above
 * Number.MAX_SAFE_INTEGER is refused as BAD_REQUEST (docs/protocol.md).
 * Absent scalar fields decode to their proto3 defaults (0, '', empty bytes, []).
 */

export interface Conversation {
  type: number;
  target: string;
}

export interface MessageContent {
  contentType: number;
  searchableContent: string;
  pushContent: string;
  data: Uint8Array;
  mentionedType: number;
  mentionedTargets: string[];
  mediaType: number;
  msgLength: number;
  remoteMediaUrl: string;
  localMediaPath: string;
}

export interface Message {
  messageId: bigint;
  /** Absent on the wire → undefined. */
  messageContent?: MessageContent;
  conversation?: Conversation;
  from: string;
  to: string;
  messageUid: bigint;
  serverTime: number;
  seq: number;
}

export interface LoginRequest {
  userId: string;
  token: string;
  deviceId: string;
  platform: number;
  clientVersion: string;
  publicKey: Uint8Array;
}

export interface LoginResponse {
  serverTime: number;
  heartbeatSeconds: number;
  head: number;
  sessionId: string;
}

export interface SendAck {
  messageUid: bigint;
  serverTime: number;
  seq: number;
}

export interface PullRequest {
  since: number;
  limit: number;
  conversation?: Conversation;
  beforeUid: bigint;
}

export interface PullResponse {
  messages: Message[];
  head: number;
  hasMore: boolean;
}

export interface Notify {
  head: number;
}

export interface RecallRequest {
  messageUid: bigint;
}

export interface ChatroomRequest {
  chatroomId: string;
}

export interface ErrorInfo {
  message: string;
  retryAfterMs: number;
}

/** protocol.md §5 MessageContentType. */
export const ContentType = {
  UNKNOWN: 0,
  TEXT: 1,
  SOUND: 2,
  IMAGE: 3,
  LOCATION: 4,
  FILE: 5,
  VIDEO: 6,
  STICKER: 7,
  TYPING: 8,
  RECALL: 80,
} as const;

/** protocol.md §5 ConversationType (the seed spells them SIGNAL, GROUP, CHATINGROOM). */
export const ConversationType = { SINGLE: 0, GROUP: 1, CHATROOM: 2 } as const;
