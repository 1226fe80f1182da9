import { type Clock, systemClock } from '../clock.js';
import { type ChatroomMember, type ChatroomRegistry, memberKey, membershipLost } from './chatrooms.js';

export interface MemoryChatroomRegistryOptions {
  /** Membership TTL of a node's room entry (config routes.ttlMs, like routes). */
  ttlMs: number;
  clock?: Clock;
}

interface NodeEntry {
  expiresAt: number;
  members: Set<string>;
}

/** ChatroomRegistry in one process (embedded mode, tests): room → node → member connections. */
export class MemoryChatroomRegistry implements ChatroomRegistry {
  private readonly rooms = new Map<string, Map<string, NodeEntry>>();
  private readonly ttlMs: number;
  private readonly clock: Clock;

  constructor(opts: MemoryChatroomRegistryOptions) {
    if (!(opts.ttlMs > 0)) throw new RangeError('ttlMs must be > 0');
    this.ttlMs = opts.ttlMs;
    this.clock = opts.clock ?? systemClock;
  }

  async join(chatroomId: string, member: ChatroomMember): Promise<void> {
    let nodes = this.rooms.get(chatroomId);
    if (!nodes) {
      nodes = new Map();
      this.rooms.set(chatroomId, nodes);
    }
    let entry = this.live(chatroomId, member.nodeId);
    if (!entry) {
      entry = { expiresAt: 0, members: new Set() };
      nodes.set(member.nodeId, entry);
    }
    entry.members.add(memberKey(member));
    entry.expiresAt = this.clock.now() + this.ttlMs;
  }

  async leave(chatroomId: string, member: ChatroomMember): Promise<boolean> {
    const entry = this.live(chatroomId, member.nodeId);
    if (!entry?.members.delete(memberKey(member))) return false;
    if (entry.members.size === 0) this.removeNode(chatroomId, member.nodeId);
    return true;
  }

  async isMember(chatroomId: string, member: ChatroomMember): Promise<boolean> {
    return this.live(chatroomId, member.nodeId)?.members.has(memberKey(member)) ?? false;
  }

  async nodes(chatroomId: string): Promise<string[]> {
    const nodes = this.rooms.get(chatroomId);
    if (!nodes) return [];
    return [...nodes.keys()].filter((n) => this.live(chatroomId, n));
  }

  async refresh(nodeId: string, chatroomIds: string[]): Promise<void> {
    const expiresAt = this.clock.now() + this.ttlMs;
    const lost: string[] = [];
    for (const id of new Set(chatroomIds)) {
      const entry = this.live(id, nodeId);
      if (entry) entry.expiresAt = expiresAt;
      else lost.push(id);
    }
    if (lost.length > 0) throw membershipLost(lost);
  }

  async count(chatroomId: string): Promise<number> {
    let n = 0;
    for (const nodeId of await this.nodes(chatroomId)) n += this.live(chatroomId, nodeId)?.members.size ?? 0;
    return n;
  }

  async drop(chatroomId: string): Promise<void> {
    this.rooms.delete(chatroomId);
  }

  async close(): Promise<void> {
    this.rooms.clear();
  }

  /** The node's entry if it has not expired; an expired one is removed on the way. */
  private live(chatroomId: string, nodeId: string): NodeEntry | undefined {
    const entry = this.rooms.get(chatroomId)?.get(nodeId);
    if (!entry) return undefined;
    if (entry.expiresAt > this.clock.now()) return entry;
    this.removeNode(chatroomId, nodeId);
    return undefined;
  }

  private removeNode(chatroomId: string, nodeId: string): void {
    const nodes = this.rooms.get(chatroomId);
    nodes?.delete(nodeId);
    if (nodes?.size === 0) this.rooms.delete(chatroomId);
  }
}
