import { describe, expect, it } from 'vitest';
import type { GroupAdmin } from '../../src/groups.js';
import { unique } from '../support.js';

/** The GroupAdmin contract (protocol.md §6 Groups): memory, SQLite (embedded) and SQL (PostgreSQL). */
export function groupDirectoryContract(name: string, open: () => Promise<GroupAdmin>): void {
  describe(`GroupAdmin contract: ${name}`, () => {
    it('creates a group once, with its members deduplicated and sorted', async () => {
      const groups = await open();
      const id = unique('g');
      const g = await groups.createGroup(id, ['carol', 'alice', 'bob', 'alice']);
      expect(g).toMatchObject({ id, members: ['alice', 'bob', 'carol'] });
      expect(g?.createdAt).toBeGreaterThan(0);
      expect(await groups.createGroup(id, ['x'])).toBeNull();
      expect(await groups.getGroup(id)).toEqual(g);
      expect((await groups.members(id))?.sort()).toEqual(['alice', 'bob', 'carol']);
    });

    it('an unknown group is null everywhere, false on delete', async () => {
      const groups = await open();
      const id = unique('none');
      expect(await groups.members(id)).toBeNull();
      expect(await groups.getGroup(id)).toBeNull();
      expect(await groups.addMembers(id, ['a'])).toBeNull();
      expect(await groups.removeMembers(id, ['a'])).toBeNull();
      expect(await groups.deleteGroup(id)).toBe(false);
    });

    it('a group may be empty, and differs from no group', async () => {
      const groups = await open();
      const id = unique('g');
      await groups.createGroup(id, []);
      expect(await groups.members(id)).toEqual([]);
      expect((await groups.getGroup(id))?.members).toEqual([]);
    });

    it('adds and removes members; a change is seen by the next read', async () => {
      const groups = await open();
      const id = unique('g');
      await groups.createGroup(id, ['a', 'b']);
      expect((await groups.addMembers(id, ['c', 'b', 'c']))?.members).toEqual(['a', 'b', 'c']);
      expect((await groups.members(id))?.sort()).toEqual(['a', 'b', 'c']);
      expect((await groups.removeMembers(id, ['b', 'nobody']))?.members).toEqual(['a', 'c']);
      expect((await groups.members(id))?.sort()).toEqual(['a', 'c']);
    });

    it('delete removes the group and its members', async () => {
      const groups = await open();
      const id = unique('g');
      await groups.createGroup(id, ['a', 'b']);
      expect(await groups.deleteGroup(id)).toBe(true);
      expect(await groups.members(id)).toBeNull();
      // The id can be used again, starting empty of the old members.
      expect((await groups.createGroup(id, ['z']))?.members).toEqual(['z']);
    });

    it('holds a 500-member group', async () => {
      const groups = await open();
      const id = unique('big');
      const users = Array.from({ length: 500 }, (_, i) => `u${String(i).padStart(3, '0')}`);
      expect((await groups.createGroup(id, users))?.members).toEqual(users);
      expect(await groups.members(id)).toHaveLength(500);
    });
  });
}
