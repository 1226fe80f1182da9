import { Redis, type RedisOptions } from 'ioredis';
import type { Route, RouteStore } from '../ports.js';

/*
 * Layout (prefix P, e.g. `im:routes:`):
 *   P u:<userId>   hash   deviceId → "<expiresAtMs>|<epoch>|<platform>|<nodeId>"
 *   P epoch        hash   n → the connection-epoch counter (HINCRBY; never expires),
 *                         base → where this counter started (see "Data loss" below)
 *
 * One hash per user, so a lookup of a user is one read and a user's devices are one key. Each
 * route carries its own expiry (the hash field), because devices of one user log in and die
 * independently; the key's own TTL is pushed to the newest route's expiry, so the hash of a user
 * whose edge died disappears with no cleanup at all (protocol.md §6 Heartbeat), and reads skip
 * and drop fields that expired before the key did. Times are the Redis server's clock (TIME), so
 * edges with skewed clocks agree on expiry.
 *
 * register / unregister / refresh are Lua scripts: the epoch check and the write are one atomic
 * step, so a late cleanup or a late refresh from an old connection can never remove or revive a
 * route it no longer owns (protocol.md §6 Session). Epochs come from one counter: they
 * grow with every login of any device, never repeat, and survive route expiry (a per-user
 * counter would restart after its hash expired and could hand an old epoch out again).
 *
 * Data loss (FLUSHALL, a restart without persistence, failover to a replica that lacked the
 * writes): the routes of live connections vanish although nobody removed them, and the counter
 * vanishes with them. The counter is therefore created starting at the Redis server's time in
 * microseconds, recorded as `base`: every epoch handed out since then is > base, and every epoch of
 * a LOST incarnation of the data is below the base of the new one (or there is no base yet). So a
 * refresh that finds its route's field missing can tell "removed or expired here" (epoch > base:
 * not revived, as the contract requires) from "lost with the data" (no base, or epoch < base):
 * such a route is written back, and live pushes to that device resume at the edge's next refresh
 * instead of at its next reconnect. New logins after a loss get epochs above the old ones, so an old
 * connection's late cleanup can never remove a new route. (Epochs are ~1.8e15: below 2^53, exact
 * in JavaScript and in Lua's doubles; written with %d so Lua never prints them as 1.8e+15.)
 * The scripts touch the user's hash and the counter together; on Redis Cluster put a hash tag in
 * the prefix (`{im-routes}:`) so both live in one slot.
 */

const SEP = '|';

/** Sets `now` (ms) and `nowUs` from the Redis server's clock. */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
`;

/** KEYS: userKey, epochKey. ARGV: deviceId, nodeId, platform, ttlMs. → {epoch, previousValue|false} */
const REGISTER = `${NOW}
local ttl = tonumber(ARGV[4])
if redis.call('HSETNX', KEYS[2], 'base', string.format('%d', nowUs)) == 1 then
  redis.call('HSET', KEYS[2], 'n', string.format('%d', nowUs))
end
local epoch = redis.call('HINCRBY', KEYS[2], 'n', 1)
local prev = redis.call('HGET', KEYS[1], ARGV[1])
if prev then
  local exp = tonumber(string.match(prev, '^(%d+)|'))
  if exp <= now then prev = false end
end
redis.call('HSET', KEYS[1], ARGV[1], string.format('%d|%d|%s|%s', now + ttl, epoch, ARGV[3], ARGV[2]))
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return {epoch, prev}
`;

/** KEYS: userKey. ARGV: deviceId, epoch. → 1 when removed */
const UNREGISTER = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local exp, epoch = string.match(v, '^(%d+)|(%d+)|')
if epoch ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(exp) <= now then return 0 end
return 1
`;

/**
 * KEYS: userKey, epochKey. ARGV: ttlMs, then deviceId, epoch, platform, nodeId per route.
 * → number refreshed or restored. A route whose field is there with another epoch, or expired, is
 * left alone; a missing field is restored only when it was lost with the data (see the header).
 */
const REFRESH = `${NOW}
local ttl = tonumber(ARGV[1])
local base = redis.call('HGET', KEYS[2], 'base')
local n = 0
for i = 2, #ARGV, 4 do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v then
    local exp, epoch, rest = string.match(v, '^(%d+)|(%d+)|(.*)$')
    if epoch == ARGV[i + 1] and tonumber(exp) > now then
      redis.call('HSET', KEYS[1], ARGV[i], string.format('%d|', now + ttl) .. epoch .. '|' .. rest)
      n = n + 1
    end
  elseif not base or tonumber(ARGV[i + 1]) < tonumber(base) then
    redis.call('HSET', KEYS[1], ARGV[i],
      string.format('%d|', now + ttl) .. ARGV[i + 1] .. '|' .. ARGV[i + 2] .. '|' .. ARGV[i + 3])
    n = n + 1
  end
end
if n > 0 and redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return n
`;

/** KEYS: userKey. → flat [deviceId, value, ...] of live routes; expired fields are dropped. */
const LOOKUP = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local exp = tonumber(string.match(all[i + 1], '^(%d+)|'))
  if exp > now then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return out
`;

interface RouteScripts {
  imRouteRegister(userKey: string, epochKey: string, ...args: string[]): Promise<[number, string | null]>;
  imRouteUnregister(userKey: string, deviceId: string, epoch: string): Promise<number>;
  imRouteRefresh(userKey: string, epochKey: string, ...args: string[]): Promise<number>;
  imRouteLookup(userKey: string): Promise<string[]>;
}

type ScriptedRedis = Redis & RouteScripts;

export interface RedisRouteStoreOptions {
  /** Redis URL (redis://host:port/db); ignored when `redis` is given. */
  url?: string;
  /** An existing client to use (not closed by close()). */
  redis?: Redis;
  /** Key prefix; tests use a unique one. Default `im:routes:`. */
  prefix?: string;
  /** Route TTL (config routes.ttlMs): a route not refreshed within it is gone. */
  ttlMs: number;
  redisOptions?: RedisOptions;
}

function parseRoute(userId: string, deviceId: string, value: string): Route {
  // "<expiresAtMs>|<epoch>|<platform>|<nodeId>": nodeId last, so it may contain the separator.
  const a = value.indexOf(SEP);
  const b = value.indexOf(SEP, a + 1);
  const c = value.indexOf(SEP, b + 1);
  return {
    userId,
    deviceId,
    epoch: Number(value.slice(a + 1, b)),
    platform: Number(value.slice(b + 1, c)),
    nodeId: value.slice(c + 1),
  };
}

/** RouteStore on Redis (the cluster's route table, shared by every edge and the message service). */
export class RedisRouteStore implements RouteStore {
  private readonly redis: ScriptedRedis;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private closed = false;

  constructor(opts: RedisRouteStoreOptions) {
    if (!(opts.ttlMs > 0)) throw new RangeError('ttlMs must be > 0');
    if (!opts.redis && !opts.url) throw new Error('RedisRouteStore needs a url or a client');
    this.ttlMs = Math.ceil(opts.ttlMs);
    this.prefix = opts.prefix ?? 'im:routes:';
    this.ownsClient = !opts.redis;
    const redis = opts.redis ?? new Redis(opts.url as string, { lazyConnect: false, ...opts.redisOptions });
    // defineCommand: EVALSHA with a transparent fallback to EVAL (NOSCRIPT), usable in pipelines.
    redis.defineCommand('imRouteRegister', { numberOfKeys: 2, lua: REGISTER });
    redis.defineCommand('imRouteUnregister', { numberOfKeys: 1, lua: UNREGISTER });
    redis.defineCommand('imRouteRefresh', { numberOfKeys: 2, lua: REFRESH });
    redis.defineCommand('imRouteLookup', { numberOfKeys: 1, lua: LOOKUP });
    this.redis = redis as ScriptedRedis;
  }

  private userKey(userId: string): string {
    return `${this.prefix}u:${userId}`;
  }

  async register(r: Omit<Route, 'epoch'>): Promise<{ route: Route; previous: Route | null }> {
    return (await this.registerMany([r]))[0] as { route: Route; previous: Route | null };
  }

  /** One script call per route, all in one pipeline (MULTI-less: each call is atomic by itself). */
  async registerMany(rs: Omit<Route, 'epoch'>[]): Promise<{ route: Route; previous: Route | null }[]> {
    if (rs.length === 0) return [];
    const pipeline = this.redis.pipeline() as ReturnType<Redis['pipeline']> & {
      imRouteRegister(userKey: string, epochKey: string, ...args: string[]): unknown;
    };
    for (const r of rs) {
      pipeline.imRouteRegister(
        this.userKey(r.userId),
        `${this.prefix}epoch`,
        r.deviceId,
        r.nodeId,
        String(r.platform),
        String(this.ttlMs),
      );
    }
    const replies = throwFirstError(await pipeline.exec());
    return rs.map((r, i) => {
      const [epoch, prev] = replies[i] as [number | string, string | null];
      return {
        route: {
          userId: r.userId,
          deviceId: r.deviceId,
          nodeId: r.nodeId,
          platform: r.platform,
          epoch: Number(epoch),
        },
        previous: prev ? parseRoute(r.userId, r.deviceId, prev) : null,
      };
    });
  }

  async unregister(userId: string, deviceId: string, epoch: number): Promise<boolean> {
    return (await this.redis.imRouteUnregister(this.userKey(userId), deviceId, String(epoch))) === 1;
  }

  /**
   * One script call per user, all in one pipeline (one round trip for an edge's whole batch). Also
   * restores routes that Redis lost (FLUSHALL, restart): see the header comment.
   */
  async refresh(routes: Route[]): Promise<void> {
    if (routes.length === 0) return;
    const byUser = new Map<string, string[]>();
    for (const r of routes) {
      let args = byUser.get(r.userId);
      if (!args) {
        args = [String(this.ttlMs)];
        byUser.set(r.userId, args);
      }
      // platform and nodeId too: a route lost with Redis's data is written back whole.
      args.push(r.deviceId, String(r.epoch), String(r.platform), r.nodeId);
    }
    const pipeline = this.redis.pipeline() as ReturnType<Redis['pipeline']> & {
      imRouteRefresh(userKey: string, epochKey: string, ...args: string[]): unknown;
    };
    const epochKey = `${this.prefix}epoch`;
    for (const [userId, args] of byUser) pipeline.imRouteRefresh(this.userKey(userId), epochKey, ...args);
    throwFirstError(await pipeline.exec());
  }

  /** One script call per user in one pipeline. */
  async lookup(userIds: string[]): Promise<Map<string, Route[]>> {
    const users = [...new Set(userIds)];
    const out = new Map<string, Route[]>();
    if (users.length === 0) return out;
    // The fan-out's hot read: plain HGETALLs in one pipeline (no script per user), with the Redis
    // server's clock read once in the same round trip, so expiry is judged as the scripts judge it.
    const pipeline = this.redis.pipeline();
    pipeline.time();
    for (const u of users) pipeline.hgetall(this.userKey(u));
    const results = throwFirstError(await pipeline.exec());
    const [sec, usec] = results[0] as [string, string];
    const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    let stale: string[] | undefined;
    users.forEach((userId, i) => {
      const hash = results[i + 1] as Record<string, string>;
      let routes: Route[] | undefined;
      for (const deviceId in hash) {
        const value = hash[deviceId] as string;
        if (Number(value.slice(0, value.indexOf(SEP))) <= now) {
          stale ??= [];
          stale.push(userId);
          continue;
        }
        routes ??= [];
        routes.push(parseRoute(userId, deviceId, value));
      }
      if (routes) out.set(userId, routes);
    });
    // Expired fields are dropped by the lookup script, atomically (a route registered meanwhile is
    // kept); rare, and not awaited.
    if (stale) for (const u of new Set(stale)) this.redis.imRouteLookup(this.userKey(u)).catch(() => {});
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function throwFirstError(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error('redis pipeline was discarded');
  for (const [err] of results) if (err) throw err;
  return results.map(([, v]) => v);
}
