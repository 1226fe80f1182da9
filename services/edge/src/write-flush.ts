/**
 * Per-turn write coalescing (docs/benchmarks.md "Where the time goes"). A connection corks its
 * socket on its first write of a turn and is uncorked once, when the turn's synchronous work and
 * the microtasks it started are done: everything written to that socket in the turn — the answers
 * to pipelined requests of one read, a batch of deliveries, an ack and the deliveries it caused —
 * leaves in one writev instead of one syscall per frame.
 *
 * process.nextTick, not setImmediate: the tick runs right after the microtask queue drains, so no
 * frame waits for other sockets' I/O callbacks (setImmediate would hold it until the check phase,
 * behind the rest of the poll phase, and behind a whole loop iteration when the write came from an
 * immediate itself, such as the SQL store's group commit). Responses are produced in microtasks
 * (the per-connection serial queue), so the tick still sees all of them.
 */

export interface Flushable {
  /** Uncorks what was written this turn (and applies the unsent-bytes bound). */
  flushWrites(): void;
}

let pending: Flushable[] = [];
let scheduled = false;

/** Flush `c` at the end of this turn; call once per turn, on the write that corked. */
export function flushAtEndOfTurn(c: Flushable): void {
  pending.push(c);
  if (!scheduled) {
    scheduled = true;
    process.nextTick(flushAll);
  }
}

function flushAll(): void {
  scheduled = false;
  // Swapped first: a flush that leads to more writes (a destroy's handlers) schedules a new tick.
  const list = pending;
  pending = [];
  for (const c of list) c.flushWrites();
}
