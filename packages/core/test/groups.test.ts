import { describe, expect, it } from 'vitest';
import { MemoryGroupDirectory } from '../src/groups.js';

describe('MemoryGroupDirectory', () => {
  it('sets, reads, replaces and deletes groups', async () => {
    const groups = new MemoryGroupDirectory();
    expect(await groups.members('g')).toBeNull();
    groups.set('g', ['a', 'b', 'a']);
    expect(await groups.members('g')).toEqual(['a', 'b']);
    const copy = await groups.members('g');
    copy?.push('x');
    expect(await groups.members('g')).toEqual(['a', 'b']);
    groups.set('g', ['c']);
    expect(await groups.members('g')).toEqual(['c']);
    expect(groups.delete('g')).toBe(true);
    expect(await groups.members('g')).toBeNull();
  });
});
