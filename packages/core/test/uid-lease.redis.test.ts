import { ImError, Status } from '@im/protocol';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeInfra, requireInfra, uniqueKeyPrefix } from '../../../test/support/infra.js';
import { uidWorker } from '../src/uid.js';
import { LeasedUid, NoWorkerIdError, RedisWorkerLease } from '../src/uid-lease.redis.js';
import { sleep } from './support.js';

describeInfra('RedisWorkerLease (real Redis)', () => {
  let redis: Redis;
  const leases: RedisWorkerLease[] = [];
  const clients: Redis[] = [];
  const acquire = async (opts: Parameters<typeof RedisWorkerLease.acquire>[0]) => {
    const lease = await RedisWorkerLease.acquire({ url: requireInfra().redisUrl, ...opts });
    leases.push(lease);
    return lease;
  };

  beforeAll(() => {
    redis = new Redis(requireInfra().redisUrl);
  });
  afterEach(async () => {
    await Promise.all(leases.splice(0).map((l) => l.release()));
    for (const c of clients.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it('gives two leases different worker ids, each key holding its owner with a TTL', async () => {
    const prefix = uniqueKeyPrefix('lease');
    const a = await acquire({ prefix, startId: 7 });
    const b = await acquire({ prefix, startId: 7 });
    expect(a.workerId).toBe(7);
    expect(b.workerId).not.toBe(a.workerId);
    expect(await redis.get(`${prefix}${a.workerId}`)).toBe(a.owner);
    expect(await redis.get(`${prefix}${b.workerId}`)).toBe(b.owner);
    const pttl = await redis.pttl(`${prefix}${a.workerId}`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(a.ttlMs);
    // Uids carry the leased id.
    expect(uidWorker(new LeasedUid(a).next())).toBe(a.workerId);
    expect(uidWorker(new LeasedUid(b).next())).toBe(b.workerId);
  });

  it('keeps a lease alive by renewing it past its TTL', async () => {
    const prefix = uniqueKeyPrefix('renew');
    const a = await acquire({ prefix, startId: 3, ttlMs: 300, renewMs: 80 });
    await sleep(900);
    expect(a.valid).toBe(true);
    expect(await redis.get(`${prefix}3`)).toBe(a.owner);
    const other = await acquire({ prefix, startId: 3, ttlMs: 300 });
    expect(other.workerId).not.toBe(3);
  });

  it('lets an id whose holder died be leased again once its TTL ran out; the dead holder stops issuing', async () => {
    const prefix = uniqueKeyPrefix('expire');
    // The holder's own client, cut to simulate a process that can no longer reach Redis.
    const client = new Redis(requireInfra().redisUrl, { maxRetriesPerRequest: 0 });
    clients.push(client);
    const dead = await acquire({ redis: client, prefix, startId: 11, ttlMs: 300, renewMs: 100 });
    const uids = new LeasedUid(dead);
    expect(() => uids.next()).not.toThrow();
    client.disconnect();

    const meanwhile = await acquire({ prefix, startId: 11, ttlMs: 5_000 });
    expect(meanwhile.workerId, 'held until its TTL runs out').not.toBe(11);

    await sleep(400);
    expect(dead.valid).toBe(false);
    let err: unknown;
    try {
      uids.next();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImError);
    expect((err as ImError).status).toBe(Status.UNAVAILABLE);

    const again = await acquire({ prefix, startId: 11 });
    expect(again.workerId).toBe(11);
  });

  it('moves to another id when its own was taken by someone else, and issues uids again', async () => {
    const prefix = uniqueKeyPrefix('stolen');
    const a = await acquire({ prefix, startId: 20, ttlMs: 400, renewMs: 50 });
    const uids = new LeasedUid(a);
    expect(uidWorker(uids.next())).toBe(20);
    await redis.set(`${prefix}20`, 'intruder', 'PX', 10_000);
    await sleep(200);
    expect(a.workerId).not.toBe(20);
    expect(a.valid).toBe(true);
    expect(uidWorker(uids.next())).toBe(a.workerId);
    expect(await redis.get(`${prefix}20`)).toBe('intruder');
  });

  it('takes its id again after the key vanished (FLUSHALL) without interrupting uids', async () => {
    const prefix = uniqueKeyPrefix('flush');
    const a = await acquire({ prefix, startId: 30, ttlMs: 400, renewMs: 50 });
    await redis.del(`${prefix}30`);
    await sleep(150);
    expect(a.valid).toBe(true);
    expect(a.workerId).toBe(30);
    expect(await redis.get(`${prefix}30`)).toBe(a.owner);
  });

  it('gives the id back on release', async () => {
    const prefix = uniqueKeyPrefix('release');
    const a = await acquire({ prefix, startId: 40 });
    await a.release();
    expect(a.valid).toBe(false);
    expect(await redis.exists(`${prefix}40`)).toBe(0);
    expect((await acquire({ prefix, startId: 40 })).workerId).toBe(40);
  });

  it('fails with NoWorkerIdError when every id is held', async () => {
    const prefix = uniqueKeyPrefix('full');
    const pipeline = redis.pipeline();
    for (let id = 0; id < 1024; id++) pipeline.set(`${prefix}${id}`, 'x', 'PX', 5_000);
    await pipeline.exec();
    await expect(RedisWorkerLease.acquire({ url: requireInfra().redisUrl, prefix })).rejects.toBeInstanceOf(
      NoWorkerIdError,
    );
  });
});
