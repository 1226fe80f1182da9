/**
 * LOGIN (protocol.md §4, §6 Session): token check, route registration with a new epoch (a
 * previous connection of the same (user, device) is kicked through the bus), LoginResponse.
 */
import { randomBytes } from 'node:crypto';
import { isServerDeviceId, SERVER_DEVICE_PREFIX } from '@im/core';
import { codec, ImError, Status } from '@im/protocol';
import type { Connection } from '../connection.js';
import type { EdgeContext } from '../context.js';
import { checkRsaFreshness } from '../crypto/rsa-freshness.js';
import type { Reply, Request } from '../dispatch.js';
import { closingError } from '../errors.js';

export async function login(ctx: EdgeContext, conn: Connection, req: Request): Promise<Reply> {
  // protocol.md §6: a second LOGIN on a logged-in connection is BAD_REQUEST and closes it.
  if (conn.loggedIn) throw closingError(Status.BAD_REQUEST, 'already logged in on this connection');
  const r = codec.LoginRequest.decode(req.body, req.limits);
  if (!r.userId) throw new ImError(Status.BAD_REQUEST, 'LoginRequest.userId is required');
  if (!r.deviceId) throw new ImError(Status.BAD_REQUEST, 'LoginRequest.deviceId is required');
  // docs/protocol.md §8: the server's own device ids (a recall notice comes from `server:recall`).
  if (isServerDeviceId(r.deviceId)) {
    throw new ImError(
      Status.BAD_REQUEST,
      `deviceId prefix "${SERVER_DEVICE_PREFIX}" is reserved for the server`,
    );
  }
  // protocol.md §2 RSA freshness: stale, missing or replayed → UNAUTHORIZED, before the token.
  if (req.secure) await checkRsaFreshness(ctx, req.secure, r.clientTime);
  const { expiresAt } = await ctx.verifier.verify(r.token, r.userId);

  const { epoch } = await ctx.presence.login({
    userId: r.userId,
    deviceId: r.deviceId,
    nodeId: ctx.nodeId,
    platform: r.platform,
    publicKey: r.publicKey,
  });
  if (conn.closing) {
    // The socket went away while the route was being registered: give it back.
    await ctx.presence.logout(r.userId, r.deviceId, epoch);
    return { none: true };
  }

  conn.beginSession({ userId: r.userId, deviceId: r.deviceId, epoch, platform: r.platform });
  const loser = ctx.registry.add(conn);
  // The older local connection of this (user, device) is kicked here too, in case the bus kick is slow;
  // kick() is idempotent. If a newer login already holds the slot, this connection is the one kicked.
  loser?.kick();
  if (loser === conn || ctx.kicks.take(r.userId, r.deviceId, epoch)) {
    conn.kick();
    return { none: true };
  }

  let head: number;
  try {
    head = await ctx.message.head(r.userId);
  } catch (err) {
    ctx.registry.remove(conn);
    conn.abortSession();
    await ctx.presence.logout(r.userId, r.deviceId, epoch).catch(() => undefined);
    throw err;
  }
  // protocol.md §2 RSA: the secret an RSA LOGIN carried becomes the session's only now, on success.
  if (req.secure) conn.secure = req.secure;
  conn.toldHead(head);
  conn.log(
    'info',
    { epoch, platform: r.platform, clientVersion: r.clientVersion, encrypted: conn.secure !== null },
    'logged in',
  );
  return {
    body: codec.LoginResponse.encode({
      serverTime: Date.now(),
      heartbeatSeconds: ctx.config.edge.heartbeatSeconds,
      head,
      sessionId: randomBytes(16).toString('hex'),
    }),
    afterWrite: () => {
      conn.completeLogin();
      // protocol.md §6 Session: the session ends when the token does (with the tolerated skew).
      conn.endSessionAt(expiresAt + ctx.config.auth.clockSkewSeconds * 1000);
    },
  };
}
