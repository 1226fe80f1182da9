/**
 * Frame bodies (protocol.md §5) as plain TypeScript values, generated from proto/im.proto with
 * their codecs (codec.ts).
 *
 * uint64 ids (messageId, messageUid, beforeUid) are `bigint`: a snowflake-style uid does not fit in
 * a double. seq, head, since and times are `number` (`[jstype = JS_NUMBER]` in the proto); a decoded
 * value above Number.MAX_SAFE_INTEGER is refused as BAD_REQUEST (docs/protocol.md).
 * Absent scalar fields decode to their proto3 defaults (0, '', empty bytes, []); an absent nested
 * message stays undefined.
 */
export type {
  ChatroomRequest,
  Conversation,
  ErrorInfo,
  LoginRequest,
  LoginResponse,
  Message,
  MessageContent,
  Notify,
  PullRequest,
  PullResponse,
  RecallRequest,
  SendAck,
} from './gen/im.js';

import { ConversationType as ConversationTypes, type MessageContent, MessageContentType } from './gen/im.js';

/** protocol.md §5 MessageContentType. */
export const ContentType = MessageContentType;

/** protocol.md §5 ConversationType (the seed spells them SIGNAL, GROUP, CHATINGROOM). */
export const ConversationType = ConversationTypes;

/** A MessageContent with every field at its proto3 default (a new value each call). */
export function emptyContent(contentType = 0): MessageContent {
  return {
    contentType,
    searchableContent: '',
    pushContent: '',
    data: new Uint8Array(0),
    mentionedType: 0,
    mentionedTargets: [],
    mediaType: 0,
    msgLength: 0,
    remoteMediaUrl: '',
    localMediaPath: '',
  };
}
