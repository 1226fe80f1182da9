import type { Chatroom, ChatroomDirectory } from '../../chatrooms/chatrooms.js';
import type { SqliteDatabase } from './database.js';

interface Row {
  id: string;
  created_at: number;
  last_active_at: number;
}

const toRoom = (r: Row): Chatroom => ({ id: r.id, createdAt: r.created_at, lastActiveAt: r.last_active_at });

const SQL = {
  create: `INSERT INTO chatrooms (id, created_at, last_active_at) VALUES (?, ?, ?)
    ON CONFLICT (id) DO NOTHING RETURNING id, created_at, last_active_at`,
  get: 'SELECT id, created_at, last_active_at FROM chatrooms WHERE id = ?',
  delete: 'DELETE FROM chatrooms WHERE id = ?',
  touch: 'UPDATE chatrooms SET last_active_at = ? WHERE id = ? AND last_active_at < ?',
  evict: 'DELETE FROM chatrooms WHERE last_active_at < ? RETURNING id',
} as const;

/** ChatroomDirectory on the embedded store's SQLite database (schema.ts: chatrooms). */
export class SqliteChatroomDirectory implements ChatroomDirectory {
  constructor(private readonly db: SqliteDatabase) {}

  async createChatroom(chatroomId: string, at: number): Promise<Chatroom | null> {
    return this.db.write(() => {
      const row = this.db.statement(SQL.create).get(chatroomId, at, at) as Row | undefined;
      return row ? toRoom(row) : null;
    });
  }

  async getChatroom(chatroomId: string): Promise<Chatroom | null> {
    return this.db.readDurable(() => {
      const row = this.db.statement(SQL.get).get(chatroomId) as Row | undefined;
      return row ? toRoom(row) : null;
    });
  }

  async deleteChatroom(chatroomId: string): Promise<boolean> {
    return this.db.write(() => Number(this.db.statement(SQL.delete).run(chatroomId).changes) > 0);
  }

  async touchChatrooms(chatroomIds: string[], at: number): Promise<void> {
    if (chatroomIds.length === 0) return;
    await this.db.write(() => {
      const touch = this.db.statement(SQL.touch);
      for (const id of new Set(chatroomIds)) touch.run(at, id, at);
    });
  }

  async evictIdleChatrooms(before: number): Promise<string[]> {
    return this.db.write(() =>
      (this.db.statement(SQL.evict).all(before) as { id: string }[]).map((r) => r.id),
    );
  }
}
