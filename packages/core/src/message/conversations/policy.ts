import type { Caller } from '../../api.js';
import type { Conversation, StoredMessage } from '../../ports.js';

/** What a send needs to know about its conversation. */
export interface SendContext {
  /** The caller (protocol.md §6 Send: `from` comes from the session). */
  sender: string;
  /** The sending connection (chatrooms: the connection must have joined). */
  caller: Caller;
  conversation: Conversation;
  /** Message.to as sent. */
  to: string;
}

/** Who a message reaches, as decided by its conversation type. */
export interface Audience {
  /** The `to` stored and delivered (SINGLE fills an empty one). */
  to: string;
  /**
   * Users a mention may name (protocol.md §6 Groups: mentioning a non-member is BAD_REQUEST);
   * null: mentions are not checked (a chatroom has no member list, only those present).
   */
  members: readonly string[] | null;
  /** Inboxes the message is appended to, the sender's included; empty = not stored (seq 0). */
  inboxUsers: readonly string[];
  /** Users whose online devices receive it (the sender's other devices included). */
  recipients: readonly string[];
  /** Announce with MN {head} instead of pushing the body (protocol.md §6 Delivery: large group). */
  notifyOnly: boolean;
  /** Recipients with no online device are handed to the offline-push hook. */
  offlinePush: boolean;
  /**
   * protocol.md §6 Chatrooms: not stored (inboxUsers and recipients empty), published once to each
   * of these edge nodes, which push it to their members present.
   */
  room?: { id: string; nodes: readonly string[] };
}

/**
 * One per ConversationType. `resolve` checks the send (throws ImError: BAD_REQUEST, NOT_FOUND,
 * FORBIDDEN) and returns the audience; `recallAudience` gives the inboxes a RECALL notice for a
 * stored message of this type goes to (protocol.md §6 Recall: every participant).
 */
export interface ConversationPolicy {
  resolve(ctx: SendContext): Promise<Audience>;
  recallAudience(original: StoredMessage): Promise<Audience>;
}
