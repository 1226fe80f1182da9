/**
 * protocol.md §6 Guarantee at the fan-out: a batch whose route lookup or publish fails is retried
 * in order until the backend is back (within the retry window), and overload turns MPS into MN —
 * one per user, at the highest seq — never into silence.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { Fanout, type FanoutJob } from '../src/message/fanout.js';
import type { Delivery, DeliveryBus, OfflinePush, Route, RouteStore } from '../src/ports.js';
import { MemoryRouteStore } from '../src/routing/routes.memory.js';
import { single, stored, waitFor } from './support.js';

/** A bus that records what it accepted and fails (or holds) publishes on demand. */
class TestBus implements DeliveryBus {
  readonly accepted: Delivery[][] = [];
  failures = 0;
  attempts = 0;
  private gate: Promise<void> | null = null;
  private open: () => void = () => {};

  hold(): void {
    this.gate = new Promise((r) => {
      this.open = r;
    });
  }
  release(): void {
    this.gate = null;
    this.open();
  }
  async publish(deliveries: Delivery[]): Promise<void> {
    this.attempts++;
    if (this.gate) await this.gate;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('bus down');
    }
    this.accepted.push(deliveries);
  }
  async publishOfflinePush(_records: OfflinePush[]): Promise<void> {}
  async subscribe() {
    return { close: async () => {} };
  }
  async close() {}
}

/** Routes that fail the next `failures` lookups. */
class FlakyRoutes implements RouteStore {
  failures = 0;
  constructor(private readonly inner: RouteStore) {}
  register(r: Omit<Route, 'epoch'>) {
    return this.inner.register(r);
  }
  registerMany(rs: Omit<Route, 'epoch'>[]) {
    return this.inner.registerMany(rs);
  }
  unregister(u: string, d: string, e: number) {
    return this.inner.unregister(u, d, e);
  }
  refresh(routes: Route[]) {
    return this.inner.refresh(routes);
  }
  async lookup(userIds: string[]) {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('route store down');
    }
    return this.inner.lookup(userIds);
  }
  close() {
    return this.inner.close();
  }
}

let uid = 1n;
/** alice → bob, at bob's `seq` (0: transient, like TYPING). */
function job(seq: number): FanoutJob {
  return {
    message: stored({ uid: uid++, from: 'alice', fromDevice: 'a1', conversation: single('bob') }),
    targets: new Map([['bob', seq]]),
    senderDevice: 'a1',
    notifyOnly: false,
    offlinePush: false,
  };
}

async function setup(
  over: { maxQueued?: number; retryWindowMs?: number; lingerMs?: number; maxBatch?: number } = {},
) {
  const routes = new FlakyRoutes(new MemoryRouteStore({ ttlMs: 60_000 }));
  await routes.register({ userId: 'bob', deviceId: 'b1', nodeId: 'n1', platform: 0 });
  const bus = new TestBus();
  const fanout = new Fanout({
    routes,
    bus,
    logger: silentLogger(),
    pushMaxBodyBytes: 16 * 1024,
    maxBatch: 1,
    ...over,
  });
  const seen = () =>
    bus.accepted
      .flat()
      .map((d) => (d.kind === 'message' ? `MPS ${d.seq}` : d.kind === 'notify' ? `MN ${d.head}` : d.kind));
  return { routes, bus, fanout, seen };
}

describe('Fanout: backends down for a moment (protocol.md §6 Guarantee)', () => {
  it('retries a failing publish, in order, until the bus is back', async () => {
    const { bus, fanout, seen } = await setup();
    bus.failures = 3;
    for (const seq of [1, 2, 3]) fanout.enqueue(job(seq));
    await fanout.drain();
    expect(seen()).toEqual(['MPS 1', 'MPS 2', 'MPS 3']);
    expect(bus.attempts).toBe(6);
  });

  it('retries a failing route lookup (the route store down) the same way', async () => {
    const { routes, fanout, seen } = await setup();
    routes.failures = 2;
    fanout.enqueue(job(1));
    fanout.enqueue(job(2));
    await fanout.drain();
    expect(seen()).toEqual(['MPS 1', 'MPS 2']);
  });

  it("gives a batch up after the retry window (the edges' head sync takes over), and goes on", async () => {
    const { bus, fanout, seen } = await setup({ retryWindowMs: 300 });
    bus.failures = 1_000_000;
    fanout.enqueue(job(1));
    const started = Date.now();
    await waitFor(() => bus.attempts >= 2, 5_000, 'a retry');
    await fanout.drain();
    expect(Date.now() - started).toBeLessThan(3_000);
    bus.failures = 0;
    fanout.enqueue(job(2));
    await fanout.drain();
    expect(seen()).toEqual(['MPS 2']);
  });
});

describe('Fanout: overload turns MPS into MN, never into silence', () => {
  it('past maxQueued the oldest messages become one MN per user at the highest seq; TYPING is dropped', async () => {
    const { bus, fanout, seen } = await setup({ maxQueued: 2 });
    bus.hold();
    fanout.enqueue(job(1)); // taken at once, held in publish
    await waitFor(() => bus.attempts === 1, 5_000, 'the first publish');
    for (const seq of [2, 0, 3, 4, 5, 6]) fanout.enqueue(job(seq));
    expect(fanout.queued).toBe(2);
    bus.release();
    await fanout.drain();
    // 2, 0 (TYPING), 3 and 4 overflowed: one MN at 4; 5 and 6 were still queued and are pushed.
    expect(seen()).toEqual(['MPS 1', 'MN 4', 'MPS 5', 'MPS 6']);
  });
});

describe('Fanout: a short linger makes batches (one routes read, one produce each)', () => {
  it('jobs arriving within lingerMs of the first go out in one publish', async () => {
    const { bus, fanout, seen } = await setup({ lingerMs: 40, maxBatch: 256 });
    fanout.enqueue(job(1));
    await new Promise((r) => setImmediate(r));
    fanout.enqueue(job(2));
    await new Promise((r) => setTimeout(r, 5));
    fanout.enqueue(job(3));
    await fanout.drain();
    expect(bus.accepted).toHaveLength(1);
    expect(seen()).toEqual(['MPS 1', 'MPS 2', 'MPS 3']);
  });

  it('a transient message (TYPING) does not wait for the linger: it is for the devices online now', async () => {
    const { bus, fanout, seen } = await setup({ lingerMs: 60_000, maxBatch: 256 });
    fanout.enqueue(job(1));
    fanout.enqueue(job(0));
    await waitFor(() => bus.accepted.length === 1, 5_000, 'the batch with the TYPING');
    expect(seen()).toEqual(['MPS 1', 'MPS 0']);
  });

  it('a full batch does not wait for the linger', async () => {
    const { bus, fanout } = await setup({ lingerMs: 60_000, maxBatch: 2 });
    fanout.enqueue(job(1));
    fanout.enqueue(job(2));
    await waitFor(() => bus.accepted.length === 1, 5_000, 'the full batch');
    fanout.enqueue(job(3));
    await fanout.close(); // close does not wait out the linger either
    expect(bus.accepted.map((b) => b.length)).toEqual([2, 1]);
  });
});
