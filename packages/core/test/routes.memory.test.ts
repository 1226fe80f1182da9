import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { MemoryRouteStore } from '../src/routing/routes.memory.js';
import { routeStoreContract } from './contracts/routes.contract.js';

routeStoreContract('memory', async ({ ttlMs }) => new MemoryRouteStore({ ttlMs }));

describe('MemoryRouteStore', () => {
  it('expires by its injected clock', async () => {
    const clock = new ManualClock();
    const routes = new MemoryRouteStore({ ttlMs: 1000, clock });
    const { route } = await routes.register({ userId: 'u', deviceId: 'd', nodeId: 'n', platform: 0 });
    clock.advance(999);
    expect((await routes.lookup(['u'])).get('u')).toEqual([route]);
    clock.advance(1);
    expect((await routes.lookup(['u'])).has('u')).toBe(false);
  });

  it('sweeps expired routes of users nobody looks up', async () => {
    const clock = new ManualClock();
    const routes = new MemoryRouteStore({ ttlMs: 1000, clock });
    for (let i = 0; i < 1000; i++)
      await routes.register({ userId: `u${i}`, deviceId: 'd', nodeId: 'n', platform: 0 });
    clock.advance(2000);
    for (let i = 0; i < 1100; i++)
      await routes.register({ userId: 'live', deviceId: `d${i}`, nodeId: 'n', platform: 0 });
    const size = (routes as unknown as { users: Map<string, unknown> }).users.size;
    expect(size).toBe(1);
  });
});
