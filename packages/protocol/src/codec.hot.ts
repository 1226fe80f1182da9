import {
  type Converter,
  capCount,
  type DecodeLimits,
  decodeBytes,
  decodeI64n,
  decodeString,
  decodeStrings,
  decodeU64,
  decodeU64n,
  decodeUint32,
  encodeBytes,
  encodeI64n,
  encodeString,
  encodeStrings,
  encodeU64,
  encodeU64n,
  encodeUint32,
  type Plain,
} from './codec.convert.js';

/**
 * Hand-written converters for the bodies every message passes through: Message (MS in, MPS out,
 * PullResponse entries) and SendAck. They do exactly what the generic converter does for these
 * schemas (schema.ts): the same fields in the same order, the same checks and errors, the same
 * decoded shape; only the per-field loop and its indirect calls are gone. codec.hot.test.ts holds
 * them to the generic converter byte for byte and error for error.
 */

function conversationToGenerated(c: Plain): Plain {
  const out: Plain = {};
  let v: unknown;
  if ((v = c.type) != null && (v = encodeUint32(v, 'Conversation.type')) !== undefined) out.type = v;
  if ((v = c.target) != null && (v = encodeString(v, 'Conversation.target')) !== undefined) out.target = v;
  return out;
}

function conversationFromGenerated(m: Plain, limits: DecodeLimits): Plain {
  return {
    type: decodeUint32(m.type),
    target: decodeString(m.target, 'Conversation.target', limits),
  };
}

function contentToGenerated(c: Plain): Plain {
  const out: Plain = {};
  let v: unknown;
  if ((v = c.contentType) != null && (v = encodeUint32(v, 'MessageContent.contentType')) !== undefined) {
    out.contentType = v;
  }
  if (
    (v = c.searchableContent) != null &&
    (v = encodeString(v, 'MessageContent.searchableContent')) !== undefined
  ) {
    out.searchableContent = v;
  }
  if ((v = c.pushContent) != null && (v = encodeString(v, 'MessageContent.pushContent')) !== undefined) {
    out.pushContent = v;
  }
  if ((v = c.data) != null && (v = encodeBytes(v, 'MessageContent.data')) !== undefined) out.data = v;
  if ((v = c.mentionedType) != null && (v = encodeUint32(v, 'MessageContent.mentionedType')) !== undefined) {
    out.mentionedType = v;
  }
  if (
    (v = c.mentionedTargets) != null &&
    (v = encodeStrings(v, 'MessageContent.mentionedTargets')) !== undefined
  ) {
    out.mentionedTargets = v;
  }
  if ((v = c.mediaType) != null && (v = encodeUint32(v, 'MessageContent.mediaType')) !== undefined) {
    out.mediaType = v;
  }
  if ((v = c.msgLength) != null && (v = encodeUint32(v, 'MessageContent.msgLength')) !== undefined) {
    out.msgLength = v;
  }
  if ((v = c.remoteMediaUrl) != null && (v = encodeString(v, 'MessageContent.remoteMediaUrl')) !== undefined) {
    out.remoteMediaUrl = v;
  }
  if ((v = c.localMediaPath) != null && (v = encodeString(v, 'MessageContent.localMediaPath')) !== undefined) {
    out.localMediaPath = v;
  }
  return out;
}

function contentFromGenerated(m: Plain, limits: DecodeLimits): Plain {
  // One statement per field, in schema order: the first field over a limit is the one reported.
  const contentType = decodeUint32(m.contentType);
  const searchableContent = decodeString(m.searchableContent, 'MessageContent.searchableContent', limits);
  const pushContent = decodeString(m.pushContent, 'MessageContent.pushContent', limits);
  const data = decodeBytes(m.data, 'MessageContent.data', limits);
  const mentionedType = decodeUint32(m.mentionedType);
  const mentionedTargets = decodeStrings(m.mentionedTargets, 'MessageContent.mentionedTargets', limits);
  const mediaType = decodeUint32(m.mediaType);
  const msgLength = decodeUint32(m.msgLength);
  const remoteMediaUrl = decodeString(m.remoteMediaUrl, 'MessageContent.remoteMediaUrl', limits);
  const localMediaPath = decodeString(m.localMediaPath, 'MessageContent.localMediaPath', limits);
  return {
    contentType,
    searchableContent,
    pushContent,
    data,
    mentionedType,
    mentionedTargets,
    mediaType,
    msgLength,
    remoteMediaUrl,
    localMediaPath,
  };
}

function messageToGenerated(m: Plain): Plain {
  const out: Plain = {};
  let v: unknown;
  if ((v = m.messageId) != null && (v = encodeU64(v, 'Message.messageId')) !== undefined) out.messageId = v;
  if ((v = m.messageContent) != null) out.messageContent = contentToGenerated(v as Plain);
  if ((v = m.conversation) != null) out.conversation = conversationToGenerated(v as Plain);
  if ((v = m.from) != null && (v = encodeString(v, 'Message.from')) !== undefined) out.from = v;
  if ((v = m.to) != null && (v = encodeString(v, 'Message.to')) !== undefined) out.to = v;
  if ((v = m.messageUid) != null && (v = encodeU64(v, 'Message.messageUid')) !== undefined) out.messageUid = v;
  if ((v = m.serverTime) != null && (v = encodeI64n(v, 'Message.serverTime')) !== undefined) out.serverTime = v;
  if ((v = m.seq) != null && (v = encodeU64n(v, 'Message.seq')) !== undefined) out.seq = v;
  return out;
}

function messageFromGenerated(m: Plain, limits: DecodeLimits): Plain {
  const out: Plain = {};
  out.messageId = decodeU64(m.messageId);
  // An absent nested message stays absent (no key), as in the generic converter.
  if (m.messageContent != null) out.messageContent = contentFromGenerated(m.messageContent as Plain, limits);
  if (m.conversation != null) out.conversation = conversationFromGenerated(m.conversation as Plain, limits);
  out.from = decodeString(m.from, 'Message.from', limits);
  out.to = decodeString(m.to, 'Message.to', limits);
  out.messageUid = decodeU64(m.messageUid);
  out.serverTime = decodeI64n(m.serverTime, 'Message.serverTime');
  out.seq = decodeU64n(m.seq, 'Message.seq');
  return out;
}

export const messageConverter: Converter = {
  toGenerated: messageToGenerated,
  fromGenerated: messageFromGenerated,
};

export const sendAckConverter: Converter = {
  toGenerated(a) {
    const out: Plain = {};
    let v: unknown;
    if ((v = a.messageUid) != null && (v = encodeU64(v, 'SendAck.messageUid')) !== undefined) out.messageUid = v;
    if ((v = a.serverTime) != null && (v = encodeI64n(v, 'SendAck.serverTime')) !== undefined) out.serverTime = v;
    if ((v = a.seq) != null && (v = encodeU64n(v, 'SendAck.seq')) !== undefined) out.seq = v;
    return out;
  },
  fromGenerated(m) {
    const messageUid = decodeU64(m.messageUid);
    const serverTime = decodeI64n(m.serverTime, 'SendAck.serverTime');
    const seq = decodeU64n(m.seq, 'SendAck.seq');
    return { messageUid, serverTime, seq };
  },
};

export const pullResponseConverter: Converter = {
  toGenerated(p) {
    const out: Plain = {};
    let v: unknown;
    if ((v = p.messages) != null) {
      const list = v as Plain[];
      if (list.length > 0) out.messages = list.map(messageToGenerated);
    }
    if ((v = p.head) != null && (v = encodeU64n(v, 'PullResponse.head')) !== undefined) out.head = v;
    if (p.hasMore === true) out.hasMore = true;
    return out;
  },
  fromGenerated(m, limits) {
    const list = (m.messages ?? []) as Plain[];
    capCount(list.length, 'PullResponse.messages', limits);
    const messages = list.map((e) => messageFromGenerated(e, limits));
    const head = decodeU64n(m.head, 'PullResponse.head');
    return { messages, head, hasMore: m.hasMore === true };
  },
};
