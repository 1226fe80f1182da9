import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInfra, requireInfra, uniqueKeyPrefix } from '../../../test/support/infra.js';
import { RedisReplayCache } from '../src/replay/replay.redis.js';
import { replayCacheContract } from './contracts/replay-cache.contract.js';
import { unique } from './support.js';

describeInfra('RedisReplayCache (real Redis)', () => {
  replayCacheContract('redis', async () => {
    const prefix = uniqueKeyPrefix('replay');
    const url = requireInfra().redisUrl;
    return { cache: new RedisReplayCache({ url, prefix }), peer: new RedisReplayCache({ url, prefix }) };
  });

  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(requireInfra().redisUrl);
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it('writes one key per sighting, with its TTL, under the prefix', async () => {
    const prefix = uniqueKeyPrefix('replay-ttl');
    const cache = new RedisReplayCache({ redis, prefix });
    const k = unique('k');
    expect(await cache.remember(k, 10_000)).toBe(true);
    const pttl = await redis.pttl(`${prefix}${k}`);
    expect(pttl).toBeGreaterThan(9_000);
    expect(pttl).toBeLessThanOrEqual(10_000);
    await cache.close();
    // A borrowed client stays open.
    expect(await redis.ping()).toBe('PONG');
  });

  it('a Redis that cannot answer is UNAVAILABLE, never a pass', async () => {
    const cache = new RedisReplayCache({
      url: 'redis://127.0.0.1:1',
      redisOptions: { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null },
    });
    await expect(cache.remember(unique('k'), 1000)).rejects.toMatchObject({ status: 9 });
    await cache.close();
  });
});
