import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInfra, requireInfra, uniqueKeyPrefix } from '../../../test/support/infra.js';
import { RedisRouteStore } from '../src/routing/routes.redis.js';
import { routeStoreContract } from './contracts/routes.contract.js';
import { sleep, unique } from './support.js';

describeInfra('RedisRouteStore (real Redis)', () => {
  // Key prefixes used here: route keys expire by themselves, the epoch counters are deleted at the end.
  const used: string[] = [];
  const keyPrefix = (label: string) => {
    const p = uniqueKeyPrefix(label);
    used.push(p);
    return p;
  };

  routeStoreContract('redis', async ({ ttlMs }) => {
    return new RedisRouteStore({ url: requireInfra().redisUrl, prefix: keyPrefix('routes'), ttlMs });
  });

  let redis: Redis;
  const stores: RedisRouteStore[] = [];
  const open = (prefix: string, ttlMs = 60_000) => {
    const s = new RedisRouteStore({ url: requireInfra().redisUrl, prefix, ttlMs });
    stores.push(s);
    return s;
  };
  beforeAll(() => {
    redis = new Redis(requireInfra().redisUrl);
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    if (!redis) return;
    await redis.del(...used.map((p) => `${p}epoch`));
    await redis.quit();
  });

  it('lets the whole key of a dead edge expire in Redis, with no cleanup or lookup', async () => {
    const prefix = keyPrefix('ttl');
    const routes = open(prefix, 300);
    await routes.register({ userId: 'u', deviceId: 'd1', nodeId: 'dead-edge', platform: 0 });
    const pttl = await redis.pttl(`${prefix}u:u`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(300);
    await sleep(450);
    expect(await redis.exists(`${prefix}u:u`)).toBe(0);
  });

  it('keeps the key alive while any device is refreshed, and drops only the stale device', async () => {
    const prefix = keyPrefix('ttl2');
    const routes = open(prefix, 600);
    const a = await routes.register({ userId: 'u', deviceId: 'a', nodeId: 'n1', platform: 0 });
    await routes.register({ userId: 'u', deviceId: 'b', nodeId: 'n2', platform: 0 });
    for (let i = 0; i < 4; i++) {
      await sleep(200);
      await routes.refresh([a.route]);
    }
    expect((await routes.lookup(['u'])).get('u')).toEqual([a.route]);
    // The expired field was dropped by the lookup, not left behind in the hash.
    expect(await redis.hkeys(`${prefix}u:u`)).toEqual(['a']);
  });

  it('gives concurrent logins of one device distinct epochs and a consistent chain of kicks', async () => {
    const prefix = keyPrefix('race');
    // Separate connections, so the registers really interleave at the server.
    const clients = Array.from({ length: 8 }, () => open(prefix));
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (clients[i % clients.length] as RedisRouteStore).register({
          userId: 'u',
          deviceId: 'd',
          nodeId: `n${i}`,
          platform: 0,
        }),
      ),
    );
    const epochs = results.map((r) => r.route.epoch);
    expect(new Set(epochs).size).toBe(40);
    const newest = results.reduce((m, r) => (r.route.epoch > m.route.epoch ? r : m));
    expect((await clients[0]?.lookup(['u']))?.get('u')).toEqual([newest.route]);
    // Every route but the newest was replaced by exactly one later login (which kicks it),
    // and the first login replaced nothing.
    const previous = results.map((r) => r.previous?.epoch).filter((e): e is number => e !== undefined);
    expect(previous.sort((x, y) => x - y)).toEqual(
      epochs.filter((e) => e !== newest.route.epoch).sort((x, y) => x - y),
    );
    for (const r of results) if (r.previous) expect(r.previous.epoch).toBeLessThan(r.route.epoch);
  });

  it('refreshes and looks up hundreds of routes in one call each', async () => {
    const prefix = keyPrefix('bulk');
    const ttlMs = 60_000;
    const routes = open(prefix, ttlMs);
    const registered = await Promise.all(
      Array.from({ length: 150 }, (_, u) =>
        ['a', 'b'].map((d) => ({ userId: `u${u}`, deviceId: d })),
      ).flatMap((pair) =>
        pair.map(async (r) => (await routes.register({ ...r, nodeId: 'n', platform: 1 })).route),
      ),
    );
    await sleep(20);
    const [sec, usec] = await redis.time();
    const refreshedAt = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    await routes.refresh(registered);
    // Every one of the 300 routes got a new expiry (stored first in each hash value).
    for (let u = 0; u < 150; u++) {
      const values = Object.values(await redis.hgetall(`${prefix}u:u${u}`));
      expect(values).toHaveLength(2);
      for (const v of values) expect(Number(v.split('|')[0])).toBeGreaterThanOrEqual(refreshedAt + ttlMs);
    }
    const got = await routes.lookup(registered.map((r) => r.userId));
    expect(got.size).toBe(150);
    expect([...got.values()].every((rs) => rs.length === 2)).toBe(true);
  });

  it('keeps stores with different prefixes apart, and round-trips a node id with the separator', async () => {
    const a = open(keyPrefix('iso'));
    const b = open(keyPrefix('iso'));
    const u = unique('u');
    const { route } = await a.register({ userId: u, deviceId: 'd', nodeId: 'edge|7:9', platform: 5 });
    expect((await a.lookup([u])).get(u)).toEqual([route]);
    expect((await b.lookup([u])).has(u)).toBe(false);
    expect(await b.unregister(u, 'd', route.epoch)).toBe(false);
    expect((await a.lookup([u])).get(u)).toEqual([route]);
  });

  it('close is safe twice and leaves a borrowed client open', async () => {
    const own = open(keyPrefix('close'));
    await own.close();
    await own.close();
    const borrowed = new RedisRouteStore({ redis, prefix: keyPrefix('borrow'), ttlMs: 1000 });
    await borrowed.register({ userId: 'u', deviceId: 'd', nodeId: 'n', platform: 0 });
    await borrowed.close();
    expect(await redis.ping()).toBe('PONG');
  });
});
