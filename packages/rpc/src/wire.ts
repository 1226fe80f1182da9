import type { Caller, InboxEntry, PullPage, StoredMessage } from '@im/core';
import { type Conversation, emptyContent } from '@im/protocol';
import type * as internal from '@im/protocol/internal';

/**
 * The generated internal messages are the core types already (same fields, same value types), except
 * that a nested message may be absent on the wire: these fill what core requires. No other
 * conversion happens between a service and the wire.
 */

const NO_CONVERSATION: Conversation = { type: 0, target: '' };

export function callerOf(c: internal.Caller | undefined): Caller {
  return c ?? { userId: '', deviceId: '', nodeId: '', epoch: 0 };
}

export function storedOf(m: internal.StoredMessage | undefined): StoredMessage {
  if (!m) throw new TypeError('a StoredMessage is missing');
  return {
    uid: m.uid,
    messageId: m.messageId,
    from: m.from,
    fromDevice: m.fromDevice,
    to: m.to,
    conversation: m.conversation ?? { ...NO_CONVERSATION },
    content: m.content ?? emptyContent(),
    serverTime: m.serverTime,
    e2e: m.e2e,
  };
}

export function entryOf(e: internal.InboxEntry): InboxEntry {
  return { seq: e.seq, message: storedOf(e.message) };
}

export function pageOf(p: internal.PullPage): PullPage {
  return { entries: p.entries.map(entryOf), head: p.head, hasMore: p.hasMore };
}

export function conversationOf(c: Conversation | undefined): Conversation {
  return c ?? { ...NO_CONVERSATION };
}
