import { afterEach, describe, expect, it } from 'vitest';
import type { ReplayCache } from '../../src/ports.js';
import { unique } from '../support.js';

/** Two handles on one store: for Redis, two clients (two edges); for memory, the one object. */
export type ReplayCacheFactory = () => Promise<{ cache: ReplayCache; peer: ReplayCache }>;

/**
 * The ReplayCache contract (protocol.md §2 RSA freshness: a recorded RSA LOGIN replayed within the
 * window never yields a session, cluster-wide). Runs against memory and Redis; keys are unique per
 * test, and expiry is awaited in real time with a short TTL.
 */
export function replayCacheContract(name: string, factory: ReplayCacheFactory): void {
  describe(`ReplayCache contract: ${name}`, () => {
    const opened: ReplayCache[] = [];
    const open = async () => {
      const pair = await factory();
      opened.push(pair.cache, pair.peer);
      return pair;
    };
    afterEach(async () => {
      await Promise.all([...new Set(opened.splice(0))].map((c) => c.close()));
    });

    it('remembers a key once: the second time is a replay', async () => {
      const { cache } = await open();
      const k = unique('k');
      expect(await cache.remember(k, 60_000)).toBe(true);
      expect(await cache.remember(k, 60_000)).toBe(false);
      expect(await cache.remember(unique('other'), 60_000)).toBe(true);
    });

    it('a key recorded through one handle is a replay through the other (another edge)', async () => {
      const { cache, peer } = await open();
      const k = unique('k');
      expect(await cache.remember(k, 60_000)).toBe(true);
      expect(await peer.remember(k, 60_000)).toBe(false);
    });

    it('of many concurrent first sightings of one key, exactly one wins', async () => {
      const { cache, peer } = await open();
      const k = unique('k');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? cache : peer).remember(k, 60_000)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('forgets a key once its TTL has passed, not before', async () => {
      const { cache } = await open();
      const k = unique('k');
      const ttlMs = 300;
      const started = Date.now();
      expect(await cache.remember(k, ttlMs)).toBe(true);
      // A refused remember records nothing, so polling it waits for the expiry without moving it.
      while (!(await cache.remember(k, ttlMs))) {
        if (Date.now() - started > 5_000) throw new Error('the key never expired');
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(Date.now() - started).toBeGreaterThanOrEqual(ttlMs - 5);
    });
  });
}
