/** Reconnect delays: exponential from minMs, capped at maxMs, with jitter so a restarted edge
 * is not hit by every client at the same instant (protocol.md §6 Shutdown: no thundering herd). */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 250, maxMs: 30_000 };

/** Delay before reconnect attempt `attempt` (0-based): uniformly in [cap/2, cap], cap = min(maxMs, minMs·2^attempt). */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const cap = Math.min(opts.maxMs, opts.minMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}
