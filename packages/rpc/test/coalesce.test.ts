import { describe, expect, it } from 'vitest';
import { Coalescer } from '../src/coalesce.js';

describe('Coalescer: single-key calls of one turn become one batch call', () => {
  it('asks each key once per turn and answers every caller, the missing ones with the default', async () => {
    const calls: string[][] = [];
    const c = new Coalescer<string, number>(async (keys) => {
      calls.push(keys);
      return new Map(keys.filter((k) => k !== 'ghost').map((k) => [k, k.length]));
    }, 0);
    const answers = await Promise.all(['a', 'bb', 'a', 'ghost'].map((k) => c.get(k)));
    expect(answers).toEqual([1, 2, 1, 0]);
    expect(calls).toEqual([['a', 'bb', 'ghost']]);
    expect(await c.get('ccc')).toBe(3);
    expect(calls).toHaveLength(2);
  });

  it('gives the batch error to every caller of that batch, and chunks large turns', async () => {
    const sizes: number[] = [];
    const c = new Coalescer<number, number>(
      async (keys) => {
        sizes.push(keys.length);
        if (keys.includes(7)) throw new Error('down');
        return new Map(keys.map((k) => [k, k]));
      },
      -1,
      5,
    );
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => c.get(i)));
    expect(sizes).toEqual([5, 5, 2]);
    expect(results.map((r) => r.status)).toEqual([
      ...Array(5).fill('fulfilled'),
      ...Array(5).fill('rejected'),
      ...Array(2).fill('fulfilled'),
    ]);
  });
});
