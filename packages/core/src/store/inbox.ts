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

/** Sorted distinct users: the one lock order every store uses for an append (no deadlocks). */
export function sortedUsers(users: Iterable<string>): string[] {
  return [...new Set(users)].sort();
}
