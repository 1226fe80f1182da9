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

// out[key] = the field's encoding, unless the value is absent or encodes to a proto3 default (left
// out). One helper per field kind, so each call site stays monomorphic and is inlined.

function putBytes(out: Plain, key: string, v: unknown, path: string): void {
  if (v === undefined || v === null) return;
  const encoded = encodeBytes(v, path);
  if (encoded !== undefined) out[key] = encoded;
}

function putI64n(out: Plain, key: string, v: unknown, path: string): void {
  if (v === undefined || v === null) return;
  const encoded = encodeI64n(v, path);
  if (encoded !== undefined) out[key] = encoded;
}

function putString(out: Plain, key: string, v: unknown, path: string): void {
  if (v === undefined || v === null) return;
  const encoded = encodeString(v, path);
  if (encoded !== undefined) out[key] = encoded;
}

function putStrings(out: Plain, key: string, v: unknown, path: string): void {
  if (v === undefined || v === null) return;
  const encoded = encodeStrings(v, path);
  if (encoded !== undefined) out[key] = encoded;
}

function putU64(out: Plain, key: string, v: unknown, path: string): void {
  if (v === undefined || v === null) return;
  const encoded = encodeU64(v, path);
  if (encoded !== undefined) out[key] = encoded;
}

function putU64n(out: Plain, key: string, v: unknown, path: string): void {
  if (v === undefined || v === null) return;
  const encoded = encodeU64n(v, path);
  if (encoded !== undefined) out[key] = encoded;
}

function putUint32(out: Plain, key: string, v: unknown, path: string): void {
  if (v === undefined || v === null) return;
  const encoded = encodeUint32(v, path);
  if (encoded !== undefined) out[key] = encoded;
}

function conversationToGenerated(c: Plain): Plain {
  const out: Plain = {};
  putUint32(out, 'type', c.type, 'Conversation.type');
  putString(out, 'target', c.target, 'Conversation.target');
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
  putUint32(out, 'contentType', c.contentType, 'MessageContent.contentType');
  putString(out, 'searchableContent', c.searchableContent, 'MessageContent.searchableContent');
  putString(out, 'pushContent', c.pushContent, 'MessageContent.pushContent');
  putBytes(out, 'data', c.data, 'MessageContent.data');
  putUint32(out, 'mentionedType', c.mentionedType, 'MessageContent.mentionedType');
  putStrings(out, 'mentionedTargets', c.mentionedTargets, 'MessageContent.mentionedTargets');
  putUint32(out, 'mediaType', c.mediaType, 'MessageContent.mediaType');
  putUint32(out, 'msgLength', c.msgLength, 'MessageContent.msgLength');
  putString(out, 'remoteMediaUrl', c.remoteMediaUrl, 'MessageContent.remoteMediaUrl');
  putString(out, 'localMediaPath', c.localMediaPath, 'MessageContent.localMediaPath');
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
  putU64(out, 'messageId', m.messageId, 'Message.messageId');
  if (m.messageContent != null) out.messageContent = contentToGenerated(m.messageContent as Plain);
  if (m.conversation != null) out.conversation = conversationToGenerated(m.conversation as Plain);
  putString(out, 'from', m.from, 'Message.from');
  putString(out, 'to', m.to, 'Message.to');
  putU64(out, 'messageUid', m.messageUid, 'Message.messageUid');
  putI64n(out, 'serverTime', m.serverTime, 'Message.serverTime');
  putU64n(out, 'seq', m.seq, 'Message.seq');
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
    putU64(out, 'messageUid', a.messageUid, 'SendAck.messageUid');
    putI64n(out, 'serverTime', a.serverTime, 'SendAck.serverTime');
    putU64n(out, 'seq', a.seq, 'SendAck.seq');
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
    if (p.messages != null) {
      const list = p.messages as Plain[];
      if (list.length > 0) out.messages = list.map(messageToGenerated);
    }
    putU64n(out, 'head', p.head, 'PullResponse.head');
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
