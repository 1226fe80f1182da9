import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInfra, requireInfra, uniqueKeyPrefix } from '../../../test/support/infra.js';
import { RedisChatroomRegistry } from '../src/chatrooms/registry.redis.js';
import { chatroomRegistryContract } from './contracts/chatroom-registry.contract.js';
import { sleep } from './support.js';

describeInfra('RedisChatroomRegistry (real Redis)', () => {
  chatroomRegistryContract(
    'redis',
    async ({ ttlMs }) =>
      new RedisChatroomRegistry({ url: requireInfra().redisUrl, prefix: uniqueKeyPrefix('rooms'), ttlMs }),
  );

  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(requireInfra().redisUrl);
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it("lets a dead edge's keys expire in Redis with no cleanup, and keeps a room's keys in one slot", async () => {
    const prefix = uniqueKeyPrefix('roomttl');
    const reg = new RedisChatroomRegistry({ redis, prefix, ttlMs: 300 });
    await reg.join('r', { userId: 'u', deviceId: 'd', nodeId: 'dead-edge', epoch: 1 });
    const keys = [`${prefix}{r}:nodes`, `${prefix}{r}:m:dead-edge`];
    for (const k of keys) {
      const pttl = await redis.pttl(k);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(300);
    }
    // Cluster-safe: both keys hash to one slot (hash tag {r}).
    const slots = await Promise.all(keys.map((k) => redis.call('CLUSTER', 'KEYSLOT', k).catch(() => null)));
    if (slots[0] !== null) expect(slots[1]).toBe(slots[0]);
    await sleep(450);
    expect(await redis.exists(...keys)).toBe(0);
    await reg.close();
    expect(await redis.ping()).toBe('PONG'); // a borrowed client stays open
  });

  it('refreshes hundreds of rooms of a node in one call', async () => {
    const reg = new RedisChatroomRegistry({ redis, prefix: uniqueKeyPrefix('roombulk'), ttlMs: 400 });
    const rooms = Array.from({ length: 300 }, (_, i) => `room${i}`);
    for (const r of rooms) await reg.join(r, { userId: 'u', deviceId: 'd', nodeId: 'n', epoch: 1 });
    await sleep(250);
    await reg.refresh('n', rooms);
    await sleep(250);
    const nodes = await Promise.all(rooms.map((r) => reg.nodes(r)));
    expect(nodes.every((n) => n.length === 1 && n[0] === 'n')).toBe(true);
  });
});
