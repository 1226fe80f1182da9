/**
 * Group membership (protocol.md §6 Groups: managed by the admin API). The message service only
 * reads it; the admin API and a SQL implementation come with the admin issue.
 */
export interface GroupDirectory {
  /** The group's member user ids, or null when the group does not exist. */
  members(groupId: string): Promise<string[] | null>;
}

/** GroupDirectory in one process (embedded mode until the SQL one exists, tests). */
export class MemoryGroupDirectory implements GroupDirectory {
  private readonly groups = new Map<string, string[]>();

  async members(groupId: string): Promise<string[] | null> {
    const m = this.groups.get(groupId);
    return m ? [...m] : null;
  }

  /** Creates the group or replaces its member list (duplicates dropped). */
  set(groupId: string, members: string[]): void {
    this.groups.set(groupId, [...new Set(members)]);
  }

  delete(groupId: string): boolean {
    return this.groups.delete(groupId);
  }
}
