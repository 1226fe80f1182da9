import { ImError, Status } from '@im/protocol';
import type { Caller } from '../api.js';
import type { ChatroomDirectory, ChatroomMember, ChatroomRegistry } from '../chatrooms/chatrooms.js';
import { type Clock, systemClock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Audience, SendContext } from './conversations/policy.js';

export interface ChatroomServiceDeps {
  directory: ChatroomDirectory;
  registry: ChatroomRegistry;
  /** config chatroom.idleEvictMs: a room with no activity for this long is evicted. */
  idleEvictMs: number;
  logger: Logger;
  clock?: Clock;
}

/** lastActiveAt is written at most this often per room and process (a busy room is not a write per message). */
const MAX_TOUCH_INTERVAL_MS = 60_000;
const MAX_TRACKED_ROOMS = 100_000;
/** The eviction sweep runs at most this far apart. */
const MAX_SWEEP_INTERVAL_MS = 60_000;

const member = (c: Caller): ChatroomMember => ({
  userId: c.userId,
  deviceId: c.deviceId,
  nodeId: c.nodeId,
  epoch: c.epoch,
});

/**
 * protocol.md §6 Chatrooms, for the message service: CRJ / CRQ / disconnect, the send check
 * (the sending connection must have joined), the nodes a message goes to, and idle eviction.
 *
 * Activity (a join, a send, an edge reporting members present in its heartbeat) moves the room's
 * lastActiveAt, written at most once per touch interval (idleEvictMs / 10, at most a minute) per
 * room. A sweep every min(idleEvictMs / 2, 1 min) deletes rooms idle for idleEvictMs and drops
 * their membership; a room with members present never goes idle, as their edge reports it with
 * every route refresh.
 */
export class ChatroomService {
  private readonly directory: ChatroomDirectory;
  private readonly registry: ChatroomRegistry;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly idleEvictMs: number;
  private readonly touchEveryMs: number;
  private readonly touched = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(deps: ChatroomServiceDeps) {
    if (!(deps.idleEvictMs > 0)) throw new RangeError('idleEvictMs must be > 0');
    this.directory = deps.directory;
    this.registry = deps.registry;
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger;
    this.idleEvictMs = deps.idleEvictMs;
    this.touchEveryMs = Math.min(MAX_TOUCH_INTERVAL_MS, Math.floor(deps.idleEvictMs / 10));
  }

  /** CRJ: an unknown room is NOT_FOUND (protocol.md §7: rooms are created by the admin API). */
  async join(caller: Caller, chatroomId: string): Promise<void> {
    if (!(await this.directory.getChatroom(chatroomId)))
      throw new ImError(Status.NOT_FOUND, 'unknown chatroom');
    await this.registry.join(chatroomId, member(caller));
    this.touch([chatroomId]);
  }

  /** CRQ or disconnect. Leaving a room one is not in is OK; an unknown room is NOT_FOUND. */
  async quit(caller: Caller, chatroomId: string): Promise<void> {
    if (await this.registry.leave(chatroomId, member(caller))) return;
    if (!(await this.directory.getChatroom(chatroomId)))
      throw new ImError(Status.NOT_FOUND, 'unknown chatroom');
  }

  /** An edge still holds members of these rooms: their membership TTL restarts; they are active. */
  async heartbeat(nodeId: string, chatroomIds: string[]): Promise<void> {
    if (chatroomIds.length === 0) return;
    await this.registry.refresh(nodeId, chatroomIds);
    this.touch(chatroomIds);
  }

  /** The send check and audience of a CHATROOM message (conversations/chatroom.ts). */
  async resolve(ctx: SendContext): Promise<Audience> {
    const id = ctx.conversation.target;
    if (!(await this.registry.isMember(id, member(ctx.caller)))) {
      if (!(await this.directory.getChatroom(id))) throw new ImError(Status.NOT_FOUND, 'unknown chatroom');
      throw new ImError(Status.FORBIDDEN, 'join the chatroom (CRJ) before sending to it');
    }
    const nodes = await this.registry.nodes(id);
    this.touch([id]);
    return {
      to: ctx.to,
      members: null,
      inboxUsers: [],
      recipients: [],
      notifyOnly: false,
      offlinePush: false,
      room: { id, nodes },
    };
  }

  /** Deletes the rooms idle for idleEvictMs and forgets their membership; returns their ids. */
  async evictIdle(): Promise<string[]> {
    const evicted = await this.directory.evictIdleChatrooms(this.clock.now() - this.idleEvictMs);
    for (const id of evicted) {
      this.touched.delete(id);
      await this.registry.drop(id);
    }
    if (evicted.length > 0) this.logger.info({ chatrooms: evicted.length }, 'idle chatrooms evicted');
    return evicted;
  }

  /** Starts the periodic eviction sweep (unref'd). */
  startEviction(): void {
    if (this.sweepTimer) return;
    const every = Math.max(1_000, Math.min(MAX_SWEEP_INTERVAL_MS, Math.floor(this.idleEvictMs / 2)));
    this.sweepTimer = setInterval(() => {
      this.evictIdle().catch((err) => this.logger.warn({ err }, 'chatroom eviction failed'));
    }, every);
    this.sweepTimer.unref();
  }

  /** Stops the sweep. Safe to repeat; the directory and registry are closed by their owner. */
  close(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  /** Moves lastActiveAt (at most once per touch interval and room); never fails the caller. */
  private touch(ids: string[]): void {
    const now = this.clock.now();
    const due = ids.filter((id) => now - (this.touched.get(id) ?? -Infinity) >= this.touchEveryMs);
    if (due.length === 0) return;
    // Only a throttle: forgetting it costs one extra write per room.
    if (this.touched.size > MAX_TRACKED_ROOMS) this.touched.clear();
    for (const id of due) this.touched.set(id, now);
    this.directory
      .touchChatrooms(due, now)
      .catch((err) => this.logger.warn({ err, chatrooms: due.length }, 'chatroom activity not recorded'));
  }
}
