import type { Clock } from '../../clock.js';
import { systemClock } from '../../clock.js';
import type { Group, GroupAdmin } from '../../groups.js';
import type { SqliteDatabase } from './database.js';

const SQL = {
  create: 'INSERT INTO groups (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING',
  exists: 'SELECT created_at FROM groups WHERE id = ?',
  members: 'SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id',
  add: 'INSERT INTO group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING',
  remove: 'DELETE FROM group_members WHERE group_id = ? AND user_id = ?',
  deleteMembers: 'DELETE FROM group_members WHERE group_id = ?',
  delete: 'DELETE FROM groups WHERE id = ?',
} as const;

/**
 * GroupAdmin on the embedded store's SQLite database (schema.ts: groups, group_members). Every
 * change is one transaction, durable when it resolves; nothing is cached (groups.ts). Member order
 * is SQLite's BINARY collation, byte order of UTF-8, as PostgreSQL's COLLATE "C" in the cluster.
 */
export class SqliteGroupDirectory implements GroupAdmin {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock = systemClock,
  ) {}

  async members(groupId: string): Promise<string[] | null> {
    return this.db.readDurable(() => this.read(groupId)?.members ?? null);
  }

  async createGroup(groupId: string, members: string[]): Promise<Group | null> {
    return this.db.write(() => {
      const { changes } = this.db.statement(SQL.create).run(groupId, this.clock.now());
      if (Number(changes) === 0) return null;
      this.insertMembers(groupId, members);
      return this.read(groupId);
    });
  }

  async getGroup(groupId: string): Promise<Group | null> {
    return this.db.readDurable(() => this.read(groupId));
  }

  async deleteGroup(groupId: string): Promise<boolean> {
    return this.db.write(() => {
      this.db.statement(SQL.deleteMembers).run(groupId);
      return Number(this.db.statement(SQL.delete).run(groupId).changes) > 0;
    });
  }

  async addMembers(groupId: string, userIds: string[]): Promise<Group | null> {
    return this.db.write(() => {
      if (!this.exists(groupId)) return null;
      this.insertMembers(groupId, userIds);
      return this.read(groupId);
    });
  }

  async removeMembers(groupId: string, userIds: string[]): Promise<Group | null> {
    return this.db.write(() => {
      if (!this.exists(groupId)) return null;
      const remove = this.db.statement(SQL.remove);
      for (const u of new Set(userIds)) remove.run(groupId, u);
      return this.read(groupId);
    });
  }

  private exists(groupId: string): boolean {
    return this.db.statement(SQL.exists).get(groupId) !== undefined;
  }

  private insertMembers(groupId: string, userIds: string[]): void {
    const add = this.db.statement(SQL.add);
    for (const u of new Set(userIds)) add.run(groupId, u);
  }

  private read(groupId: string): Group | null {
    const g = this.db.statement(SQL.exists).get(groupId) as { created_at: number } | undefined;
    if (!g) return null;
    const rows = this.db.statement(SQL.members).all(groupId) as { user_id: string }[];
    return { id: groupId, members: rows.map((r) => r.user_id), createdAt: g.created_at };
  }
}
