/**
 * Per-turn write coalescing (docs/benchmarks.md "Where the time goes"). A connection corks its
 * socket on its first write of an event-loop turn and is uncorked once, in the check phase of that
 * turn (setImmediate): everything written to that socket in the turn — the answers to pipelined
 * requests, a batch of deliveries, the MPS caused by other connections' sends read in the same
 * poll phase — leaves in one writev instead of one syscall per frame.
 *
 * setImmediate, not process.nextTick: a tick would flush after each I/O callback's microtasks, so
 * frames for one socket caused by different callbacks of the same poll phase (a recipient's MPS
 * from many senders) would still go out one syscall each. Measured with the memory-store bench at
 * saturation, the immediate made 5× fewer write syscalls per message than the tick (~4 µs against
 * ~20 µs of writev per message) and at 5,000 msg/s kept p99 send→ack at 35–55 ms where the tick
 * version, closer to saturation, had 440–540 ms. The cost is that a frame waits for the rest of
 * the poll phase: at 1,000 msg/s both had p50 ≈ 0.4 ms. The poll phase does not block while an
 * immediate is pending, so a frame written from an immediate (the SQL store's group commit) waits
 * only for the I/O callbacks already due.
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
    setImmediate(flushAll);
  }
}

function flushAll(): void {
  scheduled = false;
  // Swapped first: a flush that leads to more writes (a destroy's handlers) schedules a new one.
  const list = pending;
  pending = [];
  for (const c of list) c.flushWrites();
}
