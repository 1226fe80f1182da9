import { ImError, Status } from '@im/protocol';
import { Redis, type RedisOptions } from 'ioredis';
import type { ReplayCache } from '../ports.js';

/** Key prefix of the replay cache below config.redisPrefix. */
export const REPLAY_KEY_PREFIX = 'rsa-replay:';

export interface RedisReplayCacheOptions {
  /** Redis URL; ignored when `redis` is given. */
  url?: string;
  /** An existing client to use (not closed by close()). */
  redis?: Redis;
  /** Key prefix; tests use a unique one. Default `im:rsa-replay:`. */
  prefix?: string;
  redisOptions?: RedisOptions;
}

/**
 * ReplayCache of the cluster: one `SET <prefix><key> 1 NX PX <ttl>` per RSA LOGIN, so the first
 * edge to see a wrapped secret wins and a replay on any other edge finds it (protocol.md §2
 * RSA freshness). The key expires by itself: no cleanup. A Redis that cannot answer makes the
 * LOGIN UNAVAILABLE (safe to retry with a fresh secret), never lets a replay through.
 */
export class RedisReplayCache implements ReplayCache {
  private readonly redis: Redis;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private closed = false;

  constructor(opts: RedisReplayCacheOptions) {
    if (!opts.redis && !opts.url) throw new Error('RedisReplayCache needs a url or a client');
    this.prefix = opts.prefix ?? `im:${REPLAY_KEY_PREFIX}`;
    this.ownsClient = !opts.redis;
    this.redis = opts.redis ?? new Redis(opts.url as string, opts.redisOptions ?? {});
    // A Redis outage shows as UNAVAILABLE answers to RSA LOGINs; the client's own error events
    // would otherwise be printed by ioredis as unhandled.
    if (this.ownsClient) this.redis.on('error', () => {});
  }

  async remember(key: string, ttlMs: number): Promise<boolean> {
    let res: string | null;
    try {
      res = await this.redis.set(`${this.prefix}${key}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    } catch (err) {
      throw new ImError(Status.UNAVAILABLE, 'the login replay cache is unavailable; retry', { cause: err });
    }
    return res === 'OK';
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
