/**
 * LOGOUT (protocol.md §4): no response; the device's route is removed (if logged in) and the
 * connection closes — also before LOGIN.
 */
import type { Connection } from '../connection.js';
import type { EdgeContext } from '../context.js';
import type { Reply } from '../dispatch.js';

export async function logout(ctx: EdgeContext, conn: Connection): Promise<Reply> {
  if (conn.loggedIn) {
    ctx.registry.remove(conn);
    conn.markRouteRemoved();
    try {
      await ctx.presence.logout(conn.userId, conn.deviceId, conn.epoch);
    } catch (err) {
      // The route still expires by its TTL (protocol.md §6 Heartbeat); the client asked to leave.
      conn.log('warn', { err: String(err) }, 'route removal failed on LOGOUT');
    }
  }
  conn.end();
  return { none: true };
}
