import { ImError, Status } from '@im/protocol';
import type { ChatroomService } from '../chatrooms.js';
import type { Audience, ConversationPolicy, SendContext } from './policy.js';

/**
 * protocol.md §6 Chatrooms: online-only rooms, delivered to the members present, never appended to
 * an inbox (seq 0), never offline-pushed. The sending connection must have joined (else FORBIDDEN;
 * an unknown room is NOT_FOUND). Without a ChatroomService (no directory wired) no room exists.
 */
export function chatroomPolicy(rooms?: ChatroomService): ConversationPolicy {
  return {
    async resolve(ctx: SendContext): Promise<Audience> {
      if (!rooms) throw new ImError(Status.NOT_FOUND, 'unknown chatroom');
      return rooms.resolve(ctx);
    },
    async recallAudience(): Promise<Audience> {
      // Chatroom messages are never stored, so there is nothing to recall.
      throw new ImError(Status.NOT_FOUND, 'unknown message');
    },
  };
}
