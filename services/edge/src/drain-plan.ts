/**
 * protocol.md §6 Shutdown: when each connection of a draining edge is closed, and the reconnect
 * delay (ErrorInfo.retryAfterMs) its LOGOUT notify carries.
 *
 * Connections are closed in at most DRAIN_BATCHES batches, one every `graceMs / batches`, so the
 * edge does not drop them all at once; within a batch each connection is told to wait a slice of
 * that pause more. Closing time + hint, over all connections, is then evenly spaced over
 * [0, graceMs): the reconnects reach the other nodes at a steady rate, never as a herd.
 */

/** Drain closes connections in this many batches over the grace period. */
export const DRAIN_BATCHES = 10;

export interface DrainBatch {
  /** ms after the drain started when this batch is closed. */
  atMs: number;
  /** retryAfterMs of each connection of the batch, in order. */
  retryAfterMs: number[];
}

/** The batches for `count` connections over `graceMs`. */
export function drainPlan(count: number, graceMs: number): DrainBatch[] {
  if (count <= 0) return [];
  const perBatch = Math.max(1, Math.ceil(count / DRAIN_BATCHES));
  const batches = Math.ceil(count / perBatch);
  const pause = Math.max(0, graceMs) / batches;
  const plan: DrainBatch[] = [];
  for (let b = 0; b < batches; b++) {
    const size = Math.min(perBatch, count - b * perBatch);
    plan.push({
      atMs: Math.round(b * pause),
      retryAfterMs: Array.from({ length: size }, (_, j) => Math.floor((j * pause) / perBatch)),
    });
  }
  return plan;
}
