import { ImError, Status } from '@im/protocol';

/**
 * protocol.md §6 Chatrooms: online-only rooms. Two ports:
 *
 * - ChatroomDirectory: which rooms exist (created and deleted by the admin API, §7; CRJ to an
 *   unknown room is NOT_FOUND) and when each was last active, so an idle room can be evicted.
 *   Durable: SQL (store/sql/chatrooms.sql.ts), in memory for tests.
 * - ChatroomRegistry: who is present, held PER EDGE NODE. A room maps to the nodes holding at
 *   least one member, and each (room, node) to the member connections there. A message is
 *   published once per node in `nodes(room)` and the edge fans it out to its local members, so
 *   a room of 10 000 members on 3 edges costs 3 bus records, not 10 000. Membership is TTL'd like
 *   routes: the edge refreshes its rooms with its routes, so a dead edge's membership expires
 *   with no cleanup. In memory (embedded) and Redis (cluster), one contract suite.
 */

export interface Chatroom {
  id: string;
  /** ms since epoch. */
  createdAt: number;
  /** Last join, send or present member seen (ms since epoch), at the directory's granularity. */
  lastActiveAt: number;
}

export interface ChatroomDirectory {
  /** null when a room with this id exists already. */
  createChatroom(chatroomId: string, at: number): Promise<Chatroom | null>;
  getChatroom(chatroomId: string): Promise<Chatroom | null>;
  /** False when there was no such room. */
  deleteChatroom(chatroomId: string): Promise<boolean>;
  /** Marks the rooms active at `at` (never moves lastActiveAt back). Unknown ids are ignored. */
  touchChatrooms(chatroomIds: string[], at: number): Promise<void>;
  /** Deletes the rooms last active before `before`; returns their ids. */
  evictIdleChatrooms(before: number): Promise<string[]>;
}

/** One member connection: (user, device) with its connection epoch, on an edge node. */
export interface ChatroomMember {
  userId: string;
  deviceId: string;
  nodeId: string;
  /** The connection epoch (ports.ts Route): a late leave of an old connection removes nothing newer. */
  epoch: number;
}

export interface ChatroomRegistry {
  /** The connection joins the room on its node (idempotent); the node's room entry gets a fresh TTL. */
  join(chatroomId: string, member: ChatroomMember): Promise<void>;
  /** The connection leaves; the node's entry goes with its last member. False when it was not there. */
  leave(chatroomId: string, member: ChatroomMember): Promise<boolean>;
  /** Whether this very connection (same epoch, same node) is present. */
  isMember(chatroomId: string, member: ChatroomMember): Promise<boolean>;
  /** Nodes holding at least one live member of the room. */
  nodes(chatroomId: string): Promise<string[]>;
  /**
   * The node still holds these rooms: their TTL restarts. A room whose membership of this node is
   * gone (lost with Redis's data, expired during an outage, dropped) is not revived: after
   * refreshing the others, refresh rejects with `membershipLost` naming those rooms, and the edge
   * joins its members again (the edge holds the truth, as for routes; like a Kafka consumer that
   * hears UNKNOWN_MEMBER_ID on its heartbeat and rejoins its group).
   */
  refresh(nodeId: string, chatroomIds: string[]): Promise<void>;
  /** Live member connections of the room, over every node. */
  count(chatroomId: string): Promise<number>;
  /** Forgets the room's membership everywhere (the room was deleted or evicted). */
  drop(chatroomId: string): Promise<void>;
  close(): Promise<void>;
}

/** The registry key of a member connection on its node. */
export function memberKey(m: ChatroomMember): string {
  return `${m.userId}\u0000${m.deviceId}\u0000${m.epoch}`;
}

const MEMBERSHIP_LOST = 'chatroom membership of this node is gone; join its members again: ';

/**
 * The error of ChatroomRegistry.refresh for rooms whose membership of the node is gone: NOT_FOUND,
 * with the room ids in the message, so it crosses gRPC (packages/rpc errors.ts) unchanged.
 */
export function membershipLost(chatroomIds: string[]): ImError {
  return new ImError(Status.NOT_FOUND, `${MEMBERSHIP_LOST}${JSON.stringify(chatroomIds)}`);
}

/** The rooms named by a membershipLost error (also one rebuilt from gRPC), else null. */
export function lostChatrooms(err: unknown): string[] | null {
  if (!(err instanceof ImError) || err.status !== Status.NOT_FOUND) return null;
  if (!err.message.startsWith(MEMBERSHIP_LOST)) return null;
  try {
    const ids: unknown = JSON.parse(err.message.slice(MEMBERSHIP_LOST.length));
    return Array.isArray(ids) && ids.every((i) => typeof i === 'string') ? ids : null;
  } catch {
    return null;
  }
}
