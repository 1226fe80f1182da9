/**
 * protocol.md §6 Chatrooms after the registry lost this node's membership of some rooms (Redis
 * FLUSHALL or restart, an expiry during an outage): the message service answers the edge's room
 * refresh with `membershipLost` (packages/core chatrooms.ts), and since the edge holds the truth,
 * each local member joins again — as routes are written back by their refresh (routes.redis.ts).
 * A room gone for good (NOT_FOUND: deleted) is dropped locally, so it is no longer refreshed.
 */
import { ImError, Status } from '@im/protocol';
import type { Connection } from './connection.js';
import type { EdgeContext } from './context.js';

/** Joins in flight at once while membership is rebuilt. */
const REJOIN_CONCURRENCY = 32;

/** A rebuild function for the edge's refresh loop; a call while one runs is dropped (the next refresh asks again). */
export function rejoiner(ctx: EdgeContext): (rooms: string[]) => Promise<void> {
  let running = false;
  const one = async (room: string, conn: Connection): Promise<boolean> => {
    if (!conn.loggedIn || conn.closing) return false;
    const caller = conn.caller();
    try {
      await ctx.message.joinChatroom(caller, room);
      // Left (CRQ, close) while the join was in flight: its own leave ran before this join.
      if (conn.closing || !conn.chatrooms.has(room)) await ctx.message.quitChatroom(caller, room);
      return true;
    } catch (err) {
      if (err instanceof ImError && err.status === Status.NOT_FOUND) {
        ctx.rooms.remove(room, conn);
        conn.chatrooms.delete(room);
      } else {
        ctx.logger.warn({ err: String(err), room }, 'chatroom re-join failed; retried at the next refresh');
      }
      return false;
    }
  };
  return async (rooms) => {
    if (running) return;
    running = true;
    let joined = 0;
    try {
      const jobs = rooms.flatMap((room) => ctx.rooms.members(room).map((conn) => ({ room, conn })));
      for (let i = 0; i < jobs.length; i += REJOIN_CONCURRENCY) {
        const done = await Promise.all(jobs.slice(i, i + REJOIN_CONCURRENCY).map((j) => one(j.room, j.conn)));
        joined += done.filter(Boolean).length;
      }
      ctx.logger.info(
        { rooms: rooms.length, joined },
        'chatroom membership rebuilt after the registry lost it',
      );
    } finally {
      running = false;
    }
  };
}
