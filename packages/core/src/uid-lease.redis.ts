import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ImError, Status } from '@im/protocol';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './log.js';
import type { UidGenerator } from './ports.js';
import { SnowflakeUid, UID_MAX_WORKER } from './uid.js';

/*
 * Worker ids of message uids (uid.ts: 10 bits, 0..1023) leased from Redis, so message-service
 * replicas need no hand-given IM_WORKER_ID and never share one (issue: "time + worker id leased
 * from Redis"):
 *
 *   <prefix><id>   = <owner>  SET NX PX ttl   — taken; renewed every renewMs (PEXPIRE if still ours)
 *
 * The holder trusts its lease only until (start of the last successful renewal) + ttl - margin,
 * measured on its own monotonic clock: Redis counts the TTL from when it ran the command, which is
 * later, so the holder always gives up before Redis lets anyone else take the id. A holder that
 * cannot renew (Redis down, paused process) stops issuing uids (UNAVAILABLE) at that point rather
 * than risk two processes with one worker id; it takes a lease again as soon as Redis answers.
 *
 * A key that vanished while we held it (FLUSHALL, failover to a replica without it) is taken again
 * by the renewal itself, so a flush costs nothing. Caveat of that case: a process that starts
 * between the flush and our next renewal may pick the same id and share it for up to renewMs.
 * Uids issued after a re-lease stay unique as long as the hosts' clocks agree to within the time
 * the id was free (a lease is never reused before its TTL ran out).
 */

export interface WorkerLeaseOptions {
  /** Redis URL; ignored when `redis` is given. */
  url?: string;
  /** An existing client (not closed by release()). */
  redis?: Redis;
  redisOptions?: RedisOptions;
  /** Key prefix; default `im:uid-worker:` (config: `<IM_REDIS_PREFIX>uid-worker:`). */
  prefix?: string;
  /**
   * Lease TTL in Redis; default 60000. It is also how long a Redis outage may last before sends
   * fail with UNAVAILABLE (the holder cannot prove it still owns the id past it), and how long the
   * id of a crashed process stays unusable (harmless: there are 1024).
   */
  ttlMs?: number;
  /** Renewal period; default min(ttlMs / 3, 5000). */
  renewMs?: number;
  /** The first id tried (then upwards, wrapping); default random, so replicas rarely collide. */
  startId?: number;
  /** Written as the key's value (for operators); default `<hostname>:<pid>:<random>`. */
  owner?: string;
  logger?: Logger;
}

export const WORKER_LEASE_PREFIX = 'uid-worker:';
export const DEFAULT_WORKER_LEASE_TTL_MS = 60_000;

const WORKER_IDS = UID_MAX_WORKER + 1;

/** 1: still ours, TTL restarted. 2: gone, taken again. 0: someone else holds it. */
const RENEW = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0`;

/** Deletes the key only while it is still ours. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type LeaseRedis = Redis & {
  imLeaseRenew(key: string, owner: string, ttlMs: string): Promise<number>;
  imLeaseRelease(key: string, owner: string): Promise<number>;
};

export class NoWorkerIdError extends Error {}

/** One leased worker id, kept alive in the background until release(). */
export class RedisWorkerLease {
  readonly owner: string;
  readonly ttlMs: number;
  private readonly redis: LeaseRedis;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly renewMs: number;
  /** Lease validity is judged with this much to spare (clock rate, network). */
  private readonly marginMs: number;
  private readonly logger: Logger | undefined;
  private id = -1;
  /** performance.now() until which the lease is trusted. */
  private validUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private renewing = false;
  private released = false;
  /** Bumped whenever the worker id changes (LeasedUid starts a new generator). */
  private generation = 0;

  private constructor(opts: WorkerLeaseOptions) {
    if (!opts.redis && !opts.url) throw new Error('RedisWorkerLease needs a url or a client');
    this.ttlMs = Math.ceil(opts.ttlMs ?? DEFAULT_WORKER_LEASE_TTL_MS);
    if (!(this.ttlMs >= 100)) throw new RangeError('ttlMs must be at least 100');
    this.renewMs = Math.max(10, Math.floor(opts.renewMs ?? Math.min(this.ttlMs / 3, 5_000)));
    if (this.renewMs >= this.ttlMs) throw new RangeError('renewMs must be shorter than ttlMs');
    this.marginMs = Math.min(1_000, Math.floor(this.ttlMs / 10));
    this.prefix = opts.prefix ?? `im:${WORKER_LEASE_PREFIX}`;
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.logger = opts.logger;
    this.ownsClient = !opts.redis;
    const redis =
      opts.redis ??
      new Redis(opts.url as string, {
        // A lease call must fail fast when Redis is down, not wait in the offline queue.
        maxRetriesPerRequest: 1,
        ...opts.redisOptions,
      });
    redis.defineCommand('imLeaseRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('imLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
    this.redis = redis as LeaseRedis;
  }

  /**
   * Takes a free worker id (SET NX PX) and starts renewing it. Rejects with NoWorkerIdError when
   * all 1024 are held, or with Redis's error when it cannot be reached.
   */
  static async acquire(opts: WorkerLeaseOptions): Promise<RedisWorkerLease> {
    const lease = new RedisWorkerLease(opts);
    try {
      const start = opts.startId ?? Math.floor(Math.random() * WORKER_IDS);
      if (!Number.isInteger(start) || start < 0 || start > UID_MAX_WORKER) {
        throw new RangeError(`startId must be in 0..${UID_MAX_WORKER}`);
      }
      await lease.take(start);
    } catch (err) {
      if (lease.ownsClient) lease.redis.disconnect();
      throw err;
    }
    lease.timer = setInterval(() => void lease.renew(), lease.renewMs);
    lease.timer.unref();
    return lease;
  }

  /** The worker id held (or last held). */
  get workerId(): number {
    return this.id;
  }

  /** Changes whenever the lease moves to another worker id. */
  get version(): number {
    return this.generation;
  }

  /** True while uids may be issued under workerId. */
  get valid(): boolean {
    return !this.released && performance.now() < this.validUntil;
  }

  /** Gives the id back (deletes the key if still ours) and stops renewing. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      await this.redis.imLeaseRelease(this.key(this.id), this.owner);
    } catch (err) {
      // It expires by itself.
      this.logger?.warn({ err, workerId: this.id }, 'uid worker lease: release failed; it will expire');
    } finally {
      if (this.ownsClient) this.redis.disconnect();
    }
  }

  private key(id: number): string {
    return `${this.prefix}${id}`;
  }

  /** SET NX on each id from `start` upwards until one is free. */
  private async take(start: number): Promise<void> {
    for (let i = 0; i < WORKER_IDS; i++) {
      const id = (start + i) % WORKER_IDS;
      const sentAt = performance.now();
      const ok = await this.redis.set(this.key(id), this.owner, 'PX', this.ttlMs, 'NX');
      if (ok === 'OK') {
        if (id !== this.id) this.generation++;
        this.id = id;
        this.validUntil = sentAt + this.ttlMs - this.marginMs;
        this.logger?.info({ workerId: id, ttlMs: this.ttlMs }, 'uid worker id leased');
        return;
      }
    }
    throw new NoWorkerIdError(`all ${WORKER_IDS} uid worker ids are leased (${this.prefix}*)`);
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.released) return;
    this.renewing = true;
    const wasValid = this.valid;
    const sentAt = performance.now();
    try {
      const r = await this.redis.imLeaseRenew(this.key(this.id), this.owner, String(this.ttlMs));
      if (this.released) return;
      if (r === 1 || r === 2) {
        this.validUntil = sentAt + this.ttlMs - this.marginMs;
        if (r === 2) this.logger?.warn({ workerId: this.id }, 'uid worker lease had vanished; taken again');
        else if (!wasValid) this.logger?.info({ workerId: this.id }, 'uid worker lease renewed again');
        return;
      }
      // Someone else holds our id: it expired while we could not renew. Never use it again.
      this.validUntil = 0;
      this.logger?.warn({ workerId: this.id }, 'uid worker lease lost to another process; leasing a new id');
      await this.take((this.id + 1) % WORKER_IDS);
    } catch (err) {
      if (wasValid && !this.valid) {
        this.logger?.error({ err, workerId: this.id }, 'uid worker lease expired: uids are UNAVAILABLE');
      } else {
        this.logger?.warn({ err, workerId: this.id }, 'uid worker lease renewal failed');
      }
    } finally {
      this.renewing = false;
    }
  }
}

/**
 * Message uids under a leased worker id. While the lease is not known to be held, next() throws
 * ImError(UNAVAILABLE): the send fails and is retried by the client, nothing is stored twice.
 */
export class LeasedUid implements UidGenerator {
  private gen: SnowflakeUid;
  private version: number;

  constructor(private readonly lease: RedisWorkerLease) {
    this.gen = new SnowflakeUid(lease.workerId);
    this.version = lease.version;
  }

  get workerId(): number {
    return this.lease.workerId;
  }

  next(): bigint {
    if (!this.lease.valid) throw new ImError(Status.UNAVAILABLE, 'message uid worker lease not held');
    if (this.lease.version !== this.version) {
      this.gen = new SnowflakeUid(this.lease.workerId);
      this.version = this.lease.version;
    }
    return this.gen.next();
  }
}
