import { ImError, Status } from '@im/protocol';
import type { Audience, ConversationPolicy } from './policy.js';

/**
 * protocol.md §6 Chatrooms: online-only rooms, delivered to the members present, never appended to
 * an inbox (seq 0). Rooms are created by the admin API, which is a later issue: until then no room
 * exists, so every chatroom send is NOT_FOUND (as is CRJ, see MessageService.joinChatroom). When
 * rooms land, `resolve` returns { inboxUsers: [], recipients: present members, offlinePush: false }
 * and FORBIDDEN for a sender who has not joined.
 */
export function chatroomPolicy(): ConversationPolicy {
  return {
    async resolve(): Promise<Audience> {
      throw new ImError(Status.NOT_FOUND, 'unknown chatroom');
    },
    async recallAudience(): Promise<Audience> {
      // Chatroom messages are never stored, so there is nothing to recall.
      throw new ImError(Status.NOT_FOUND, 'unknown message');
    },
  };
}
