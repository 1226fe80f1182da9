import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { MemoryReplayCache } from '../src/replay/replay.memory.js';
import { replayCacheContract } from './contracts/replay-cache.contract.js';

replayCacheContract('memory', async () => {
  const cache = new MemoryReplayCache();
  return { cache, peer: cache };
});

describe('MemoryReplayCache', () => {
  it('expires by its injected clock and holds only what is within the TTL', async () => {
    const clock = new ManualClock();
    const cache = new MemoryReplayCache({ clock });
    for (let i = 0; i < 1000; i++) expect(await cache.remember(`k${i}`, 1000)).toBe(true);
    clock.advance(999);
    expect(await cache.remember('k0', 1000)).toBe(false);
    clock.advance(1);
    expect(await cache.remember('fresh', 1000)).toBe(true);
    expect(cache.size).toBe(1);
    expect(await cache.remember('k0', 1000)).toBe(true);
  });
});
