import { ContentType, ConversationType, emptyContent } from '@im/protocol';
import type { Conversation, MessageContent, StoredMessage } from '../ports.js';

/**
 * The conversation as `userId` sees it (protocol.md §6 Conversation history): in a single chat the
 * peer is the other party — the target for the sender, `from` for the recipient; a group or
 * chatroom is its own id for everyone.
 */
export function conversationFor(message: StoredMessage, userId: string): Conversation {
  const c = message.conversation;
  if (c.type === ConversationType.SINGLE && userId !== message.from) {
    return { type: c.type, target: message.from };
  }
  return { type: c.type, target: c.target };
}

/**
 * protocol.md §6 Recall: what a recalled message's content becomes. The contract names data,
 * searchableContent and pushContent; media URLs, paths and mentions would leak the content too,
 * so everything but the type is emptied.
 */
export function wipedContent(): MessageContent {
  return emptyContent(ContentType.RECALL);
}

/** A deep copy, so a store never shares mutable state with its callers. */
export function cloneMessage(m: StoredMessage): StoredMessage {
  return {
    ...m,
    conversation: { ...m.conversation },
    content: {
      ...m.content,
      data: m.content.data.slice(),
      mentionedTargets: [...m.content.mentionedTargets],
    },
  };
}

/**
 * A lower bound of a stored message's encoded size (MessageStore.pull / history `maxBytes`): its
 * bytes field and the lengths of its strings, which protobuf writes at least once each (UTF-16
 * units here; the SQL stores count characters or bytes, never more than the encoding). What makes
 * a message large is all here, so a page of these never holds much more than it should.
 */
export function contentBytes(m: StoredMessage): number {
  const c = m.content;
  let n = c.data.length + c.searchableContent.length + c.pushContent.length;
  n += c.remoteMediaUrl.length + c.localMediaPath.length;
  for (const t of c.mentionedTargets) n += t.length;
  return n + m.from.length + m.to.length + m.conversation.target.length;
}

/** The running contentBytes() of a page being read (MessageStore.pull / history `maxBytes`). */
export class PageBudget {
  private total = 0;

  constructor(private readonly maxBytes = Number.POSITIVE_INFINITY) {}

  /** Counts `m`; false once the total is above maxBytes: `m` is then the page's last entry. */
  add(m: StoredMessage): boolean {
    this.total += contentBytes(m);
    return this.total <= this.maxBytes;
  }
}

/** Sorted distinct users: the one lock order every store uses for an append (no deadlocks). */
export function sortedUsers(users: Iterable<string>): string[] {
  // A one-to-one message's pair, the usual case, without a Set and a sort.
  if (Array.isArray(users) && users.length === 2) {
    const [a, b] = users as [string, string];
    return a === b ? [a] : a < b ? [a, b] : [b, a];
  }
  return [...new Set(users)].sort();
}
