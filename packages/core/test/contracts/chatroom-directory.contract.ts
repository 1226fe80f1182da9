import { describe, expect, it } from 'vitest';
import type { ChatroomDirectory } from '../../src/chatrooms/chatrooms.js';
import { unique } from '../support.js';

/** The ChatroomDirectory contract (protocol.md §6 Chatrooms, §7): memory and SQL. */
export function chatroomDirectoryContract(name: string, open: () => Promise<ChatroomDirectory>): void {
  describe(`ChatroomDirectory contract: ${name}`, () => {
    it('creates a room once; reads and deletes it', async () => {
      const dir = await open();
      const id = unique('room');
      expect(await dir.createChatroom(id, 1000)).toEqual({ id, createdAt: 1000, lastActiveAt: 1000 });
      expect(await dir.createChatroom(id, 2000)).toBeNull();
      expect(await dir.getChatroom(id)).toEqual({ id, createdAt: 1000, lastActiveAt: 1000 });
      expect(await dir.deleteChatroom(id)).toBe(true);
      expect(await dir.deleteChatroom(id)).toBe(false);
      expect(await dir.getChatroom(id)).toBeNull();
    });

    it('touch moves lastActiveAt forward only; unknown ids are ignored', async () => {
      const dir = await open();
      const id = unique('room');
      await dir.createChatroom(id, 1000);
      await dir.touchChatrooms([id, unique('nope')], 5000);
      await dir.touchChatrooms([id], 3000);
      expect((await dir.getChatroom(id))?.lastActiveAt).toBe(5000);
    });

    it('evicts exactly the rooms idle since before the given time', async () => {
      const dir = await open();
      // Far in the past, so rooms of other tests sharing the database are not evicted here.
      const idle = unique('idle');
      const busy = unique('busy');
      await dir.createChatroom(idle, 10);
      await dir.createChatroom(busy, 10);
      await dir.touchChatrooms([busy], 50);
      expect(await dir.evictIdleChatrooms(30)).toEqual([idle]);
      expect(await dir.getChatroom(idle)).toBeNull();
      expect(await dir.getChatroom(busy)).not.toBeNull();
      await dir.deleteChatroom(busy);
    });
  });
}
