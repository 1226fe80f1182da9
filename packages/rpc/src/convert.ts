import type { Caller, InboxEntry, PullPage, Route, StoredMessage } from '@im/core';
import type { Conversation, Message, MessageContent, PullRequest, PullResponse, SendAck } from '@im/protocol';
import type { im } from './gen/internal.js';
import { fromU64, numFromI64, numFromU64, numToI64, numToU64, toU64 } from './long.js';

/**
 * Plain values (bodies.ts, ports.ts, api.ts) ↔ the generated message objects of proto/*.proto.
 * `*ToWire` builds what the generated encoder takes; `*FromWire` reads a decoded object, filling
 * proto3 defaults for absent fields, and copies bytes (a plain Uint8Array that does not keep the
 * received buffer alive).
 */

/** A plain Uint8Array copy (protobufjs hands out Buffer views into the received message). */
export const copyBytes = (b: Uint8Array | null | undefined): Uint8Array =>
  b ? new Uint8Array(b) : new Uint8Array(0);

export function conversationToWire(c: Conversation): im.Conversation.$Properties {
  return { type: c.type, target: c.target };
}

export function conversationFromWire(c: im.Conversation.$Properties | null | undefined): Conversation {
  return { type: c?.type ?? 0, target: c?.target ?? '' };
}

export function contentToWire(c: MessageContent): im.MessageContent.$Properties {
  return {
    contentType: c.contentType,
    searchableContent: c.searchableContent,
    pushContent: c.pushContent,
    data: c.data,
    mentionedType: c.mentionedType,
    mentionedTargets: c.mentionedTargets,
    mediaType: c.mediaType,
    msgLength: c.msgLength,
    remoteMediaUrl: c.remoteMediaUrl,
    localMediaPath: c.localMediaPath,
  };
}

export function contentFromWire(c: im.MessageContent.$Properties | null | undefined): MessageContent {
  return {
    contentType: c?.contentType ?? 0,
    searchableContent: c?.searchableContent ?? '',
    pushContent: c?.pushContent ?? '',
    data: copyBytes(c?.data),
    mentionedType: c?.mentionedType ?? 0,
    mentionedTargets: [...(c?.mentionedTargets ?? [])],
    mediaType: c?.mediaType ?? 0,
    msgLength: c?.msgLength ?? 0,
    remoteMediaUrl: c?.remoteMediaUrl ?? '',
    localMediaPath: c?.localMediaPath ?? '',
  };
}

/** The public Message (protocol.md §5), with the same field numbers and types as on the wire. */
export function messageToWire(m: Message): im.Message.$Properties {
  return {
    messageId: toU64(m.messageId, 'Message.messageId'),
    messageContent: m.messageContent ? contentToWire(m.messageContent) : null,
    conversation: m.conversation ? conversationToWire(m.conversation) : null,
    from: m.from,
    to: m.to,
    messageUid: toU64(m.messageUid, 'Message.messageUid'),
    serverTime: numToI64(m.serverTime, 'Message.serverTime'),
    seq: numToU64(m.seq, 'Message.seq'),
  };
}

export function messageFromWire(m: im.Message.$Properties | null | undefined): Message {
  const out: Message = {
    messageId: fromU64(m?.messageId),
    from: m?.from ?? '',
    to: m?.to ?? '',
    messageUid: fromU64(m?.messageUid),
    serverTime: numFromI64(m?.serverTime, 'Message.serverTime'),
    seq: numFromU64(m?.seq, 'Message.seq'),
  };
  // bodies.ts: an absent nested message stays undefined (not a default-filled one).
  if (m?.messageContent != null) out.messageContent = contentFromWire(m.messageContent);
  if (m?.conversation != null) out.conversation = conversationFromWire(m.conversation);
  return out;
}

export function pullRequestToWire(r: PullRequest): im.PullRequest.$Properties {
  return {
    since: numToU64(r.since, 'PullRequest.since'),
    limit: r.limit,
    conversation: r.conversation ? conversationToWire(r.conversation) : null,
    beforeUid: toU64(r.beforeUid, 'PullRequest.beforeUid'),
  };
}

export function pullRequestFromWire(r: im.PullRequest.$Properties | null | undefined): PullRequest {
  const out: PullRequest = {
    since: numFromU64(r?.since, 'PullRequest.since'),
    limit: r?.limit ?? 0,
    beforeUid: fromU64(r?.beforeUid),
  };
  if (r?.conversation != null) out.conversation = conversationFromWire(r.conversation);
  return out;
}

export function pullResponseToWire(r: PullResponse): im.PullResponse.$Properties {
  return {
    messages: r.messages.map(messageToWire),
    head: numToU64(r.head, 'PullResponse.head'),
    hasMore: r.hasMore,
  };
}

export function pullResponseFromWire(r: im.PullResponse.$Properties): PullResponse {
  return {
    messages: (r.messages ?? []).map(messageFromWire),
    head: numFromU64(r.head, 'PullResponse.head'),
    hasMore: r.hasMore ?? false,
  };
}

export function sendAckToWire(a: SendAck): im.SendAck.$Properties {
  return {
    messageUid: toU64(a.messageUid, 'SendAck.messageUid'),
    serverTime: numToI64(a.serverTime, 'SendAck.serverTime'),
    seq: numToU64(a.seq, 'SendAck.seq'),
  };
}

export function sendAckFromWire(a: im.SendAck.$Properties): SendAck {
  return {
    messageUid: fromU64(a.messageUid),
    serverTime: numFromI64(a.serverTime, 'SendAck.serverTime'),
    seq: numFromU64(a.seq, 'SendAck.seq'),
  };
}

export function callerToWire(c: Caller): im.internal.Caller.$Properties {
  return {
    userId: c.userId,
    deviceId: c.deviceId,
    nodeId: c.nodeId,
    epoch: numToU64(c.epoch, 'Caller.epoch'),
  };
}

export function callerFromWire(c: im.internal.Caller.$Properties | null | undefined): Caller {
  return {
    userId: c?.userId ?? '',
    deviceId: c?.deviceId ?? '',
    nodeId: c?.nodeId ?? '',
    epoch: numFromU64(c?.epoch, 'Caller.epoch'),
  };
}

export function routeToWire(r: Route): im.internal.Route.$Properties {
  return {
    userId: r.userId,
    deviceId: r.deviceId,
    nodeId: r.nodeId,
    epoch: numToU64(r.epoch, 'Route.epoch'),
    platform: r.platform,
  };
}

export function routeFromWire(r: im.internal.Route.$Properties): Route {
  return {
    userId: r.userId ?? '',
    deviceId: r.deviceId ?? '',
    nodeId: r.nodeId ?? '',
    epoch: numFromU64(r.epoch, 'Route.epoch'),
    platform: r.platform ?? 0,
  };
}

export function storedToWire(m: StoredMessage): im.internal.StoredMessage.$Properties {
  return {
    uid: toU64(m.uid, 'StoredMessage.uid'),
    messageId: toU64(m.messageId, 'StoredMessage.messageId'),
    from: m.from,
    fromDevice: m.fromDevice,
    to: m.to,
    conversation: conversationToWire(m.conversation),
    content: contentToWire(m.content),
    serverTime: numToI64(m.serverTime, 'StoredMessage.serverTime'),
    e2e: m.e2e,
  };
}

export function storedFromWire(m: im.internal.StoredMessage.$Properties | null | undefined): StoredMessage {
  return {
    uid: fromU64(m?.uid),
    messageId: fromU64(m?.messageId),
    from: m?.from ?? '',
    fromDevice: m?.fromDevice ?? '',
    to: m?.to ?? '',
    conversation: conversationFromWire(m?.conversation),
    content: contentFromWire(m?.content),
    serverTime: numFromI64(m?.serverTime, 'StoredMessage.serverTime'),
    e2e: m?.e2e ?? false,
  };
}

export function entryToWire(e: InboxEntry): im.internal.InboxEntry.$Properties {
  return { seq: numToU64(e.seq, 'InboxEntry.seq'), message: storedToWire(e.message) };
}

export function entryFromWire(e: im.internal.InboxEntry.$Properties): InboxEntry {
  return { seq: numFromU64(e.seq, 'InboxEntry.seq'), message: storedFromWire(e.message) };
}

export function pageToWire(p: PullPage): im.internal.PullPage.$Properties {
  return { entries: p.entries.map(entryToWire), head: numToU64(p.head, 'PullPage.head'), hasMore: p.hasMore };
}

export function pageFromWire(p: im.internal.PullPage.$Properties): PullPage {
  return {
    entries: (p.entries ?? []).map(entryFromWire),
    head: numFromU64(p.head, 'PullPage.head'),
    hasMore: p.hasMore ?? false,
  };
}
