import { afterEach, describe, expect, it } from 'vitest';
import type { RouteStore } from '../../src/ports.js';
import { sleep, unique } from '../support.js';

export type RouteStoreFactory = (opts: { ttlMs: number }) => Promise<RouteStore>;

/**
 * The RouteStore contract (protocol.md §6 Session: one live connection per (user, device), epochs;
 * Heartbeat: routes of a dead node expire by TTL). Runs against memory and Redis; ids are unique
 * per test, and expiry is tested in real time with a short TTL.
 */
export function routeStoreContract(name: string, factory: RouteStoreFactory): void {
  describe(`RouteStore contract: ${name}`, () => {
    const opened: RouteStore[] = [];
    const open = async (ttlMs = 60_000) => {
      const s = await factory({ ttlMs });
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('registers a route and returns the one it replaced, with a larger epoch', async () => {
      const routes = await open();
      const u = unique('u');
      const first = await routes.register({ userId: u, deviceId: 'd1', nodeId: 'n1', platform: 1 });
      expect(first.previous).toBeNull();
      expect(first.route).toMatchObject({ userId: u, deviceId: 'd1', nodeId: 'n1', platform: 1 });
      const second = await routes.register({ userId: u, deviceId: 'd1', nodeId: 'n2', platform: 2 });
      expect(second.previous).toEqual(first.route);
      expect(second.route.epoch).toBeGreaterThan(first.route.epoch);
      expect((await routes.lookup([u])).get(u)).toEqual([second.route]);
    });

    it('registers many at once as one by one, in order (a second login of a device replaces the first)', async () => {
      const routes = await open();
      const [u, v] = [unique('u'), unique('v')];
      const old = await routes.register({ userId: u, deviceId: 'd1', nodeId: 'n0', platform: 1 });
      const got = await routes.registerMany([
        { userId: u, deviceId: 'd1', nodeId: 'n1', platform: 1 },
        { userId: v, deviceId: 'd1', nodeId: 'n1', platform: 2 },
        { userId: u, deviceId: 'd1', nodeId: 'n2', platform: 3 },
      ]);
      expect(got.map((g) => g.previous)).toEqual([old.route, null, got[0]?.route]);
      const epochs = got.map((g) => g.route.epoch);
      expect(epochs[0]).toBeGreaterThan(old.route.epoch);
      expect(epochs[2]).toBeGreaterThan(epochs[0] as number);
      expect((await routes.lookup([u, v])).get(u)).toEqual([got[2]?.route]);
      expect((await routes.lookup([v])).get(v)).toEqual([got[1]?.route]);
      expect(await routes.registerMany([])).toEqual([]);
    });

    it('keeps every device of a user (multi-device)', async () => {
      const routes = await open();
      const u = unique('u');
      const a = await routes.register({ userId: u, deviceId: 'd1', nodeId: 'n1', platform: 1 });
      const b = await routes.register({ userId: u, deviceId: 'd2', nodeId: 'n2', platform: 3 });
      expect(b.previous).toBeNull();
      const got = (await routes.lookup([u])).get(u) ?? [];
      expect([...got].sort((x, y) => x.deviceId.localeCompare(y.deviceId))).toEqual([a.route, b.route]);
    });

    it('refuses an unregister with a stale epoch', async () => {
      const routes = await open();
      const u = unique('u');
      const old = await routes.register({ userId: u, deviceId: 'd1', nodeId: 'n1', platform: 0 });
      const cur = await routes.register({ userId: u, deviceId: 'd1', nodeId: 'n2', platform: 0 });
      expect(await routes.unregister(u, 'd1', old.route.epoch)).toBe(false);
      expect((await routes.lookup([u])).get(u)).toEqual([cur.route]);
      expect(await routes.unregister(u, 'd1', cur.route.epoch)).toBe(true);
      expect((await routes.lookup([u])).has(u)).toBe(false);
      expect(await routes.unregister(u, 'd1', cur.route.epoch)).toBe(false);
    });

    it('does not revive a replaced or removed route on refresh', async () => {
      const routes = await open();
      const u = unique('u');
      const old = await routes.register({ userId: u, deviceId: 'd1', nodeId: 'n1', platform: 0 });
      const cur = await routes.register({ userId: u, deviceId: 'd1', nodeId: 'n2', platform: 0 });
      await routes.refresh([old.route]);
      expect((await routes.lookup([u])).get(u)).toEqual([cur.route]);
      await routes.unregister(u, 'd1', cur.route.epoch);
      await routes.refresh([cur.route, old.route]);
      expect((await routes.lookup([u])).has(u)).toBe(false);
    });

    it('expires routes after the TTL unless refreshed', async () => {
      const routes = await open(400);
      const [u, v] = [unique('u'), unique('v')];
      const ru = await routes.register({ userId: u, deviceId: 'd1', nodeId: 'n1', platform: 0 });
      await routes.register({ userId: v, deviceId: 'd1', nodeId: 'n1', platform: 0 });
      await sleep(250);
      await routes.refresh([ru.route]);
      await sleep(250);
      // v was registered 500 ms ago (expired); u was refreshed 250 ms ago (alive).
      const mid = await routes.lookup([u, v]);
      expect(mid.get(u)).toEqual([ru.route]);
      expect(mid.has(v)).toBe(false);
      await sleep(300);
      expect((await routes.lookup([u])).has(u)).toBe(false);
      // An expired route is not "previous" to a new login, and refresh does not bring it back.
      await routes.refresh([ru.route]);
      expect((await routes.lookup([u])).has(u)).toBe(false);
      const again = await routes.register({ userId: u, deviceId: 'd1', nodeId: 'n1', platform: 0 });
      expect(again.previous).toBeNull();
      expect(again.route.epoch).toBeGreaterThan(ru.route.epoch);
    });

    it('looks up many users at once; users without routes are absent', async () => {
      const routes = await open();
      const p = unique('p');
      const users = Array.from({ length: 60 }, (_, i) => `${p}-${i}`);
      for (const [i, u] of users.entries()) {
        await routes.register({ userId: u, deviceId: 'd1', nodeId: `n${i % 3}`, platform: 0 });
        if (i % 2 === 0) await routes.register({ userId: u, deviceId: 'd2', nodeId: 'n9', platform: 0 });
      }
      const got = await routes.lookup([...users, `${p}-absent`, users[0] as string]);
      expect(got.size).toBe(60);
      expect(got.has(`${p}-absent`)).toBe(false);
      for (const [i, u] of users.entries()) {
        const rs = got.get(u) ?? [];
        expect(rs.length).toBe(i % 2 === 0 ? 2 : 1);
        expect(rs.find((r) => r.deviceId === 'd1')?.nodeId).toBe(`n${i % 3}`);
      }
      expect((await routes.lookup([])).size).toBe(0);
    });
  });
}
