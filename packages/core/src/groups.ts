/**
 * Group membership (protocol.md §6 Groups: managed by the admin API). The message service only
 * reads it (GroupDirectory); the admin API manages it (GroupAdmin). Three implementations: in
 * memory (tests), SQLite in embedded mode (store/sqlite/groups.sqlite.ts) and PostgreSQL in the
 * cluster (store/sql/groups.sql.ts; the message service reaches it through the storage service).
 *
 * No implementation caches: a send reads the members as they are now, so a member change takes
 * effect for the next message (a removed member stops receiving; what they got stays theirs).
 */
export interface GroupDirectory {
  /** The group's member user ids, or null when the group does not exist. */
  members(groupId: string): Promise<string[] | null>;
}

export interface Group {
  id: string;
  /** Member user ids, sorted. */
  members: string[];
  /** ms since epoch. */
  createdAt: number;
}

export interface GroupAdmin extends GroupDirectory {
  /** Creates the group with these members (duplicates dropped); null when it already exists. */
  createGroup(groupId: string, members: string[]): Promise<Group | null>;
  getGroup(groupId: string): Promise<Group | null>;
  /** False when there was no such group. */
  deleteGroup(groupId: string): Promise<boolean>;
  /** Adds members (already-members are ignored); null when the group does not exist. */
  addMembers(groupId: string, userIds: string[]): Promise<Group | null>;
  /** Removes members (non-members are ignored); null when the group does not exist. */
  removeMembers(groupId: string, userIds: string[]): Promise<Group | null>;
}

/** GroupAdmin in one process (tests). */
export class MemoryGroupDirectory implements GroupAdmin {
  private readonly groups = new Map<string, { members: Set<string>; createdAt: number }>();

  async members(groupId: string): Promise<string[] | null> {
    const g = this.groups.get(groupId);
    return g ? [...g.members] : null;
  }

  /** Creates the group or replaces its member list (duplicates dropped). */
  set(groupId: string, members: string[]): void {
    const createdAt = this.groups.get(groupId)?.createdAt ?? Date.now();
    this.groups.set(groupId, { members: new Set(members), createdAt });
  }

  delete(groupId: string): boolean {
    return this.groups.delete(groupId);
  }

  async createGroup(groupId: string, members: string[]): Promise<Group | null> {
    if (this.groups.has(groupId)) return null;
    this.set(groupId, members);
    return this.getGroup(groupId);
  }

  async getGroup(groupId: string): Promise<Group | null> {
    const g = this.groups.get(groupId);
    return g ? { id: groupId, members: [...g.members].sort(), createdAt: g.createdAt } : null;
  }

  async deleteGroup(groupId: string): Promise<boolean> {
    return this.delete(groupId);
  }

  async addMembers(groupId: string, userIds: string[]): Promise<Group | null> {
    const g = this.groups.get(groupId);
    if (!g) return null;
    for (const u of userIds) g.members.add(u);
    return this.getGroup(groupId);
  }

  async removeMembers(groupId: string, userIds: string[]): Promise<Group | null> {
    const g = this.groups.get(groupId);
    if (!g) return null;
    for (const u of userIds) g.members.delete(u);
    return this.getGroup(groupId);
  }
}
