import type { Chatroom, ChatroomDirectory } from './chatrooms.js';

/** ChatroomDirectory in one process (tests). */
export class MemoryChatroomDirectory implements ChatroomDirectory {
  private readonly rooms = new Map<string, Chatroom>();

  async createChatroom(chatroomId: string, at: number): Promise<Chatroom | null> {
    if (this.rooms.has(chatroomId)) return null;
    const room = { id: chatroomId, createdAt: at, lastActiveAt: at };
    this.rooms.set(chatroomId, room);
    return { ...room };
  }

  async getChatroom(chatroomId: string): Promise<Chatroom | null> {
    const room = this.rooms.get(chatroomId);
    return room ? { ...room } : null;
  }

  async deleteChatroom(chatroomId: string): Promise<boolean> {
    return this.rooms.delete(chatroomId);
  }

  async touchChatrooms(chatroomIds: string[], at: number): Promise<void> {
    for (const id of chatroomIds) {
      const room = this.rooms.get(id);
      if (room && room.lastActiveAt < at) room.lastActiveAt = at;
    }
  }

  async evictIdleChatrooms(before: number): Promise<string[]> {
    const evicted = [...this.rooms.values()].filter((r) => r.lastActiveAt < before).map((r) => r.id);
    for (const id of evicted) this.rooms.delete(id);
    return evicted;
  }
}
