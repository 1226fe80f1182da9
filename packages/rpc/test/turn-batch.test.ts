import { describe, expect, it } from 'vitest';
import { TurnBatcher } from '../src/turn-batch.js';

describe('TurnBatcher: the calls of one turn become one batch call, nothing merged', () => {
  it('answers each item at its position; equal items stay two; chunks of maxBatch', async () => {
    const batches: number[][] = [];
    const b = new TurnBatcher<number, number>(async (items) => {
      batches.push(items);
      return items.map((x) => x * 10);
    }, 3);
    const got = await Promise.all([1, 2, 2, 3, 4].map((x) => b.add(x)));
    expect(got).toEqual([10, 20, 20, 30, 40]);
    expect(batches).toEqual([
      [1, 2, 2],
      [3, 4],
    ]);
    expect(await b.add(5)).toBe(50);
    expect(batches).toHaveLength(3);
  });

  it("a failed batch fails its items, not the next turn's; a short answer fails them all", async () => {
    let fail = true;
    const b = new TurnBatcher<number, number>(async (items) => {
      if (fail) throw new Error('backend down');
      return items.slice(1);
    });
    await expect(Promise.all([b.add(1), b.add(2)])).rejects.toThrow('backend down');
    fail = false;
    const results = await Promise.allSettled([b.add(1), b.add(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/1 results for 2 items/);
  });
});
