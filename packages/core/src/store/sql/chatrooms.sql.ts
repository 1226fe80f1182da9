import type { Chatroom, ChatroomDirectory } from '../../chatrooms/chatrooms.js';
import type { SqlDriver } from './driver.js';
import { migrate } from './migrations.js';

interface Row {
  id: string;
  created_at: string;
  last_active_at: string;
}

const toRoom = (r: Row): Chatroom => ({
  id: r.id,
  createdAt: Number(r.created_at),
  lastActiveAt: Number(r.last_active_at),
});

const COLUMNS = 'id, created_at::text AS created_at, last_active_at::text AS last_active_at';

/** ChatroomDirectory on the SQL store's database (migration 2: chatrooms). */
export class SqlChatroomDirectory implements ChatroomDirectory {
  constructor(private readonly driver: SqlDriver) {}

  /** Applies pending migrations (idempotent), then returns the directory. */
  static async open(driver: SqlDriver): Promise<SqlChatroomDirectory> {
    await migrate(driver);
    return new SqlChatroomDirectory(driver);
  }

  async createChatroom(chatroomId: string, at: number): Promise<Chatroom | null> {
    const { rows } = await this.driver.query<Row>(
      `INSERT INTO chatrooms (id, created_at, last_active_at) VALUES ($1, $2, $2)
        ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
      [chatroomId, String(at)],
    );
    return rows[0] ? toRoom(rows[0]) : null;
  }

  async getChatroom(chatroomId: string): Promise<Chatroom | null> {
    const { rows } = await this.driver.query<Row>(`SELECT ${COLUMNS} FROM chatrooms WHERE id = $1`, [
      chatroomId,
    ]);
    return rows[0] ? toRoom(rows[0]) : null;
  }

  async deleteChatroom(chatroomId: string): Promise<boolean> {
    const { rows } = await this.driver.query('DELETE FROM chatrooms WHERE id = $1 RETURNING id', [
      chatroomId,
    ]);
    return rows.length > 0;
  }

  async touchChatrooms(chatroomIds: string[], at: number): Promise<void> {
    if (chatroomIds.length === 0) return;
    await this.driver.query(
      'UPDATE chatrooms SET last_active_at = $2 WHERE id = ANY($1::text[]) AND last_active_at < $2',
      [[...new Set(chatroomIds)], String(at)],
    );
  }

  async evictIdleChatrooms(before: number): Promise<string[]> {
    const { rows } = await this.driver.query<{ id: string }>(
      'DELETE FROM chatrooms WHERE last_active_at < $1 RETURNING id',
      [String(before)],
    );
    return rows.map((r) => r.id);
  }
}
