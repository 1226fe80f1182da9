import { type Clock, systemClock } from '../clock.js';
import type { Route, RouteStore } from '../ports.js';

interface Entry {
  route: Route;
  expiresAt: number;
}

export interface MemoryRouteStoreOptions {
  /** Route TTL (config routes.ttlMs): a route not refreshed within it is gone. */
  ttlMs: number;
  clock?: Clock;
}

/**
 * RouteStore in one process (embedded mode, tests). TTL is real: expiry is checked against the
 * clock on every read, and expired entries are swept as they are met, so nothing grows without bound.
 * Epochs come from one counter per store, so they grow with every login (protocol.md §6 Session).
 */
export class MemoryRouteStore implements RouteStore {
  private readonly users = new Map<string, Map<string, Entry>>();
  private readonly ttlMs: number;
  private readonly clock: Clock;
  private epoch = 0;
  private sinceSweep = 0;

  constructor(opts: MemoryRouteStoreOptions) {
    if (!(opts.ttlMs > 0)) throw new RangeError('ttlMs must be > 0');
    this.ttlMs = opts.ttlMs;
    this.clock = opts.clock ?? systemClock;
  }

  async register(r: Omit<Route, 'epoch'>): Promise<{ route: Route; previous: Route | null }> {
    const previous = this.live(r.userId, r.deviceId);
    // Frozen: lookup hands the stored route out as it is (no copy per user per fan-out batch).
    const route: Route = Object.freeze({ ...r, epoch: ++this.epoch });
    let devices = this.users.get(r.userId);
    if (!devices) {
      devices = new Map();
      this.users.set(r.userId, devices);
    }
    devices.set(r.deviceId, { route, expiresAt: this.clock.now() + this.ttlMs });
    this.sweepSome();
    return { route: { ...route }, previous: previous ? { ...previous } : null };
  }

  async registerMany(rs: Omit<Route, 'epoch'>[]): Promise<{ route: Route; previous: Route | null }[]> {
    const out: { route: Route; previous: Route | null }[] = [];
    for (const r of rs) out.push(await this.register(r));
    return out;
  }

  async unregister(userId: string, deviceId: string, epoch: number): Promise<boolean> {
    const current = this.live(userId, deviceId);
    if (!current || current.epoch !== epoch) return false;
    this.remove(userId, deviceId);
    return true;
  }

  async refresh(routes: Route[]): Promise<void> {
    const expiresAt = this.clock.now() + this.ttlMs;
    for (const r of routes) {
      const entry = this.users.get(r.userId)?.get(r.deviceId);
      // A replaced, removed or expired route is never revived by a late refresh.
      if (!entry || entry.expiresAt <= this.clock.now() || entry.route.epoch !== r.epoch) continue;
      entry.expiresAt = expiresAt;
    }
  }

  async lookup(userIds: string[]): Promise<Map<string, Route[]>> {
    const out = new Map<string, Route[]>();
    const now = this.clock.now();
    for (const userId of new Set(userIds)) {
      const devices = this.users.get(userId);
      if (!devices) continue;
      const live: Route[] = [];
      for (const [deviceId, e] of devices) {
        if (e.expiresAt <= now) this.remove(userId, deviceId);
        else live.push(e.route);
      }
      if (live.length > 0) out.set(userId, live);
    }
    return out;
  }

  async close(): Promise<void> {
    this.users.clear();
  }

  private live(userId: string, deviceId: string): Route | null {
    const e = this.users.get(userId)?.get(deviceId);
    if (!e) return null;
    if (e.expiresAt <= this.clock.now()) {
      this.remove(userId, deviceId);
      return null;
    }
    return e.route;
  }

  private remove(userId: string, deviceId: string): void {
    const devices = this.users.get(userId);
    if (!devices) return;
    devices.delete(deviceId);
    if (devices.size === 0) this.users.delete(userId);
  }

  /**
   * Amortized sweep: one full pass after as many registers as there are users (at least 1024),
   * so routes of a dead node do not linger in memory and each register stays O(1) on average.
   */
  private sweepSome(): void {
    if (++this.sinceSweep < Math.max(1024, this.users.size)) return;
    this.sinceSweep = 0;
    const now = this.clock.now();
    for (const [userId, devices] of this.users) {
      for (const [deviceId, e] of devices) if (e.expiresAt <= now) this.remove(userId, deviceId);
    }
  }
}
