import { Redis, type RedisOptions } from 'ioredis';
import { type ChatroomMember, type ChatroomRegistry, memberKey, membershipLost } from './chatrooms.js';

/*
 * Layout (prefix P, default `im:rooms:`):
 *   P{<room>}:nodes        hash  nodeId → expiresAtMs of that node's membership of the room
 *   P{<room>}:m:<nodeId>   set   member connections on that node ("<user>\0<device>\0<epoch>")
 *
 * A message looks up one small hash (the nodes: O(edges), whatever the room's size) and is
 * published once per node. The keys of a room share the hash tag {<room>}, so the scripts touch
 * one Redis Cluster slot. Node entries carry their own expiry (hash field), refreshed by the edge
 * with its routes; the keys' own TTLs follow the newest entry, so the membership of a dead edge
 * disappears with no cleanup (protocol.md §6 Heartbeat, like routes.redis.ts). Times are the Redis
 * server's clock (TIME), so edges with skewed clocks agree.
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** KEYS: nodes, members. ARGV: member, nodeId, ttlMs. */
const JOIN = `${NOW}
local ttl = tonumber(ARGV[3])
local exp = redis.call('HGET', KEYS[1], ARGV[2])
if exp and tonumber(exp) <= now then redis.call('DEL', KEYS[2]) end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('HSET', KEYS[1], ARGV[2], now + ttl)
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;

/** KEYS: nodes, members. ARGV: member, nodeId. → 1 when removed */
const LEAVE = `${NOW}
local exp = redis.call('HGET', KEYS[1], ARGV[2])
if not exp or tonumber(exp) <= now then return 0 end
local removed = redis.call('SREM', KEYS[2], ARGV[1])
if removed == 1 and redis.call('SCARD', KEYS[2]) == 0 then
  redis.call('HDEL', KEYS[1], ARGV[2])
  redis.call('DEL', KEYS[2])
end
return removed
`;

/** KEYS: nodes, members. ARGV: member, nodeId. → 1 when present */
const IS_MEMBER = `${NOW}
local exp = redis.call('HGET', KEYS[1], ARGV[2])
if not exp or tonumber(exp) <= now then return 0 end
return redis.call('SISMEMBER', KEYS[2], ARGV[1])
`;

/** KEYS: nodes. → live node ids; expired entries are dropped. */
const NODES = `${NOW}
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) > now then
    out[#out + 1] = all[i]
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return out
`;

/** KEYS: nodes, members. ARGV: nodeId, ttlMs. → 1 when refreshed (never revives an expired entry) */
const REFRESH = `${NOW}
local ttl = tonumber(ARGV[2])
local exp = redis.call('HGET', KEYS[1], ARGV[1])
if not exp or tonumber(exp) <= now or redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], now + ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;

interface RoomScripts {
  imRoomJoin(nodes: string, members: string, member: string, nodeId: string, ttl: string): Promise<number>;
  imRoomLeave(nodes: string, members: string, member: string, nodeId: string): Promise<number>;
  imRoomIsMember(nodes: string, members: string, member: string, nodeId: string): Promise<number>;
  imRoomNodes(nodes: string): Promise<string[]>;
}

type Pipeline = ReturnType<Redis['pipeline']> & {
  imRoomRefresh(nodes: string, members: string, nodeId: string, ttl: string): unknown;
};

/** Key prefix of the registry below config.redisPrefix (message service and admin API agree on it). */
export const CHATROOM_KEY_PREFIX = 'rooms:';

export interface RedisChatroomRegistryOptions {
  /** Redis URL; ignored when `redis` is given. */
  url?: string;
  /** An existing client to use (not closed by close()). */
  redis?: Redis;
  /** Key prefix; tests use a unique one. Default `im:rooms:`. */
  prefix?: string;
  /** Membership TTL (config routes.ttlMs): a node's room entry not refreshed within it is gone. */
  ttlMs: number;
  redisOptions?: RedisOptions;
}

/** ChatroomRegistry on Redis (the cluster: shared by every message-service replica). */
export class RedisChatroomRegistry implements ChatroomRegistry {
  private readonly redis: Redis & RoomScripts;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private closed = false;

  constructor(opts: RedisChatroomRegistryOptions) {
    if (!(opts.ttlMs > 0)) throw new RangeError('ttlMs must be > 0');
    if (!opts.redis && !opts.url) throw new Error('RedisChatroomRegistry needs a url or a client');
    this.ttlMs = Math.ceil(opts.ttlMs);
    this.prefix = opts.prefix ?? 'im:rooms:';
    this.ownsClient = !opts.redis;
    const redis = opts.redis ?? new Redis(opts.url as string, { ...opts.redisOptions });
    redis.defineCommand('imRoomJoin', { numberOfKeys: 2, lua: JOIN });
    redis.defineCommand('imRoomLeave', { numberOfKeys: 2, lua: LEAVE });
    redis.defineCommand('imRoomIsMember', { numberOfKeys: 2, lua: IS_MEMBER });
    redis.defineCommand('imRoomNodes', { numberOfKeys: 1, lua: NODES });
    redis.defineCommand('imRoomRefresh', { numberOfKeys: 2, lua: REFRESH });
    this.redis = redis as Redis & RoomScripts;
  }

  private nodesKey(room: string): string {
    return `${this.prefix}{${room}}:nodes`;
  }

  private membersKey(room: string, nodeId: string): string {
    return `${this.prefix}{${room}}:m:${nodeId}`;
  }

  async join(chatroomId: string, m: ChatroomMember): Promise<void> {
    await this.redis.imRoomJoin(
      this.nodesKey(chatroomId),
      this.membersKey(chatroomId, m.nodeId),
      memberKey(m),
      m.nodeId,
      String(this.ttlMs),
    );
  }

  async leave(chatroomId: string, m: ChatroomMember): Promise<boolean> {
    const keys = [this.nodesKey(chatroomId), this.membersKey(chatroomId, m.nodeId)] as const;
    return (await this.redis.imRoomLeave(...keys, memberKey(m), m.nodeId)) === 1;
  }

  async isMember(chatroomId: string, m: ChatroomMember): Promise<boolean> {
    const keys = [this.nodesKey(chatroomId), this.membersKey(chatroomId, m.nodeId)] as const;
    return (await this.redis.imRoomIsMember(...keys, memberKey(m), m.nodeId)) === 1;
  }

  async nodes(chatroomId: string): Promise<string[]> {
    return this.redis.imRoomNodes(this.nodesKey(chatroomId));
  }

  /**
   * One script call per room, all in one pipeline (one round trip per edge refresh). A room the
   * script did not find (FLUSHALL, a restart, an expiry) is named in the membershipLost rejection:
   * its members are not in Redis any more, so only the edge can put them back.
   */
  async refresh(nodeId: string, chatroomIds: string[]): Promise<void> {
    if (chatroomIds.length === 0) return;
    const rooms = [...new Set(chatroomIds)];
    const pipeline = this.redis.pipeline() as Pipeline;
    for (const room of rooms) {
      pipeline.imRoomRefresh(this.nodesKey(room), this.membersKey(room, nodeId), nodeId, String(this.ttlMs));
    }
    const refreshed = throwFirstError(await pipeline.exec());
    const lost = rooms.filter((_, i) => Number(refreshed[i]) !== 1);
    if (lost.length > 0) throw membershipLost(lost);
  }

  async count(chatroomId: string): Promise<number> {
    const nodes = await this.nodes(chatroomId);
    if (nodes.length === 0) return 0;
    const pipeline = this.redis.pipeline();
    for (const n of nodes) pipeline.scard(this.membersKey(chatroomId, n));
    return throwFirstError(await pipeline.exec()).reduce<number>((sum, v) => sum + Number(v), 0);
  }

  async drop(chatroomId: string): Promise<void> {
    const key = this.nodesKey(chatroomId);
    const nodes = await this.redis.hkeys(key);
    await this.redis.del(key, ...nodes.map((n) => this.membersKey(chatroomId, n)));
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
