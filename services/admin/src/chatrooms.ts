import { type ChatroomDirectory, type ChatroomRegistry, type Clock, systemClock } from '@im/core';
import type { ChatroomAdmin } from './deps.js';

/**
 * ChatroomAdmin over the directory (which rooms exist: SQL) and the registry (who is present:
 * memory or Redis). Deleting a room drops its membership, so its members present stop receiving
 * and a send to it is NOT_FOUND at once (message/chatrooms.ts checks membership first).
 */
export function chatroomAdmin(
  directory: ChatroomDirectory,
  registry: Pick<ChatroomRegistry, 'count' | 'drop'>,
  clock: Clock = systemClock,
): ChatroomAdmin {
  return {
    createChatroom: (id) => directory.createChatroom(id, clock.now()),
    async getChatroom(id) {
      const room = await directory.getChatroom(id);
      if (!room) return null;
      return { ...room, members: await registry.count(id) };
    },
    async deleteChatroom(id) {
      const deleted = await directory.deleteChatroom(id);
      if (deleted) await registry.drop(id);
      return deleted;
    },
  };
}
