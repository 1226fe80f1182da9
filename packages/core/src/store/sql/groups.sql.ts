import type { Clock } from '../../clock.js';
import { systemClock } from '../../clock.js';
import type { Group, GroupAdmin } from '../../groups.js';
import type { SqlDriver } from './driver.js';
import { migrate } from './migrations.js';

/**
 * GroupAdmin on the SQL store's database (migration 2: groups, group_members), through the same
 * SqlDriver as the messages: PostgreSQL in the cluster (served to the message service by the
 * storage service). Member lists are written with one statement per call (unnest), whatever their
 * length. Nothing is cached (groups.ts).
 */
export class SqlGroupDirectory implements GroupAdmin {
  constructor(
    private readonly driver: SqlDriver,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Applies pending migrations (idempotent), then returns the directory. */
  static async open(driver: SqlDriver, clock?: Clock): Promise<SqlGroupDirectory> {
    await migrate(driver);
    return new SqlGroupDirectory(driver, clock);
  }

  async members(groupId: string): Promise<string[] | null> {
    return (await this.read(this.driver, groupId))?.members ?? null;
  }

  async createGroup(groupId: string, members: string[]): Promise<Group | null> {
    return this.driver.transaction(async (tx) => {
      const { rows } = await tx.query(
        'INSERT INTO groups (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id',
        [groupId, String(this.clock.now())],
      );
      if (rows.length === 0) return null;
      await insertMembers(tx, groupId, members);
      return this.read(tx, groupId);
    });
  }

  async getGroup(groupId: string): Promise<Group | null> {
    return this.read(this.driver, groupId);
  }

  async deleteGroup(groupId: string): Promise<boolean> {
    const { rows } = await this.driver.query('DELETE FROM groups WHERE id = $1 RETURNING id', [groupId]);
    return rows.length > 0;
  }

  async addMembers(groupId: string, userIds: string[]): Promise<Group | null> {
    return this.driver.transaction(async (tx) => {
      // Locks the group row: a concurrent delete waits, or wins and we answer null.
      if (!(await lockGroup(tx, groupId))) return null;
      await insertMembers(tx, groupId, userIds);
      return this.read(tx, groupId);
    });
  }

  async removeMembers(groupId: string, userIds: string[]): Promise<Group | null> {
    return this.driver.transaction(async (tx) => {
      if (!(await lockGroup(tx, groupId))) return null;
      if (userIds.length > 0) {
        await tx.query('DELETE FROM group_members WHERE group_id = $1 AND user_id = ANY($2::text[])', [
          groupId,
          userIds,
        ]);
      }
      return this.read(tx, groupId);
    });
  }

  /** The group and its members in one query (a group without members is one row of NULLs). */
  private async read(q: SqlDriver, groupId: string): Promise<Group | null> {
    const { rows } = await q.query<{ created_at: string; user_id: string | null }>(
      `SELECT g.created_at::text AS created_at, m.user_id FROM groups g
        LEFT JOIN group_members m ON m.group_id = g.id
        WHERE g.id = $1 ORDER BY m.user_id COLLATE "C"`,
      [groupId],
    );
    const first = rows[0];
    if (!first) return null;
    return {
      id: groupId,
      members: rows.flatMap((r) => (r.user_id === null ? [] : [r.user_id])),
      createdAt: Number(first.created_at),
    };
  }
}

async function lockGroup(tx: SqlDriver, groupId: string): Promise<boolean> {
  const { rows } = await tx.query('SELECT id FROM groups WHERE id = $1 FOR UPDATE', [groupId]);
  return rows.length > 0;
}

async function insertMembers(tx: SqlDriver, groupId: string, userIds: string[]): Promise<void> {
  const users = [...new Set(userIds)];
  if (users.length === 0) return;
  await tx.query(
    `INSERT INTO group_members (group_id, user_id) SELECT $1, u FROM unnest($2::text[]) AS t(u)
      ON CONFLICT DO NOTHING`,
    [groupId, users],
  );
}
