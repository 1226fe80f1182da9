/**
 * protocol.md §2 RSA freshness: an RSA LOGIN carries LoginRequest.clientTime within
 * config.edge.rsaLoginWindowMs of the server's clock, and its wrapped secret is seen once,
 * cluster-wide, within that window — so a recorded LOGIN frame replayed on a new connection never
 * yields a session (it could otherwise kick the real device). Every refusal is UNAUTHORIZED
 * (docs/protocol.md §8.14): a failed LOGIN, a strike like any other.
 *
 * The secret is remembered BEFORE the token is checked and whatever the outcome, with one atomic
 * SET NX: two replays racing on two edges cannot both pass. It is kept for twice the window, the
 * longest any clock within the window could still find that clientTime fresh.
 */
import { ImError, Status } from '@im/protocol';
import type { EdgeContext } from '../context.js';
import type { SecureSession } from './session-crypto.js';

export async function checkRsaFreshness(
  ctx: EdgeContext,
  session: SecureSession,
  clientTime: number,
  now = Date.now(),
): Promise<void> {
  const windowMs = ctx.config.edge.rsaLoginWindowMs;
  if (clientTime === 0) {
    throw new ImError(
      Status.UNAUTHORIZED,
      'an RSA LOGIN must carry LoginRequest.clientTime (ms since the epoch)',
    );
  }
  const offMs = clientTime - now;
  if (Math.abs(offMs) > windowMs) {
    throw new ImError(
      Status.UNAUTHORIZED,
      `LoginRequest.clientTime is ${Math.round(offMs / 1000)} s off the server's clock (at most ±${Math.round(windowMs / 1000)} s): a stale or replayed LOGIN, or a wrong device clock`,
    );
  }
  if (!(await ctx.replay.remember(session.wrappedDigest, 2 * windowMs))) {
    throw new ImError(
      Status.UNAUTHORIZED,
      'this RSA LOGIN was seen before (replayed): log in with a fresh session secret',
    );
  }
}
