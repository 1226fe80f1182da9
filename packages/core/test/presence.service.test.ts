import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../src/bus/bus.memory.js';
import { ManualClock } from '../src/clock.js';
import { silentLogger } from '../src/log.js';
import type { Delivery, DeliveryBus } from '../src/ports.js';
import { MemoryPublicKeyStore } from '../src/presence/keys.memory.js';
import { PresenceService } from '../src/presence/presence.service.js';
import { MemoryRouteStore } from '../src/routing/routes.memory.js';
import { brokenBus } from './harness.js';
import { waitFor } from './support.js';

async function presenceHarness(bus: DeliveryBus = new MemoryBus()) {
  const clock = new ManualClock();
  const routes = new MemoryRouteStore({ ttlMs: 1000, clock });
  const keys = new MemoryPublicKeyStore();
  const service = new PresenceService({ routes, bus, keys, logger: silentLogger() });
  const kicks: Delivery[] = [];
  for (const n of ['n1', 'n2']) {
    await bus.subscribe(n, async (batch) => {
      kicks.push(...batch);
    });
  }
  const login = (userId: string, deviceId: string, nodeId: string, publicKey = new Uint8Array(0)) =>
    service.login({ userId, deviceId, nodeId, platform: 1, publicKey });
  return { service, routes, keys, clock, kicks, login };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('PresenceService (protocol.md §6 Session)', () => {
  it('registers the route on login', async () => {
    const h = await presenceHarness();
    const { epoch } = await h.login('alice', 'phone', 'n1');
    expect(await h.service.devices('alice')).toEqual([
      { userId: 'alice', deviceId: 'phone', nodeId: 'n1', platform: 1, epoch },
    ]);
    expect(await h.service.devices('bob')).toEqual([]);
  });

  it('kicks the previous connection of the same device on another node', async () => {
    const h = await presenceHarness();
    const first = await h.login('alice', 'phone', 'n1');
    const second = await h.login('alice', 'phone', 'n2');
    expect(second.epoch).toBeGreaterThan(first.epoch);
    await waitFor(() => h.kicks.length === 1);
    expect(h.kicks).toEqual([
      { kind: 'kick', nodeId: 'n1', userId: 'alice', deviceId: 'phone', epoch: first.epoch },
    ]);
    expect((await h.service.devices('alice')).map((r) => r.nodeId)).toEqual(['n2']);
  });

  it('kicks the previous connection on the same node too', async () => {
    const h = await presenceHarness();
    const first = await h.login('alice', 'phone', 'n1');
    await h.login('alice', 'phone', 'n1');
    await waitFor(() => h.kicks.length === 1);
    expect(h.kicks[0]).toMatchObject({ kind: 'kick', nodeId: 'n1', epoch: first.epoch });
  });

  it('does not kick another device of the same user', async () => {
    const h = await presenceHarness();
    await h.login('alice', 'phone', 'n1');
    await h.login('alice', 'laptop', 'n2');
    await settle();
    expect(h.kicks).toEqual([]);
    expect(await h.service.devices('alice')).toHaveLength(2);
  });

  it('logs in even when the kick cannot be published', async () => {
    const h = await presenceHarness(brokenBus('throw'));
    await h.login('alice', 'phone', 'n1');
    await expect(h.login('alice', 'phone', 'n2')).resolves.toHaveProperty('epoch');
    expect((await h.service.devices('alice')).map((r) => r.nodeId)).toEqual(['n2']);
  });

  it('stores a published public key; a login without one keeps it', async () => {
    const h = await presenceHarness();
    expect(await h.service.publicKey('alice')).toBeNull();
    await h.login('alice', 'phone', 'n1', new Uint8Array([1, 2, 3]));
    await h.login('alice', 'laptop', 'n1');
    expect(await h.service.publicKey('alice')).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('logs out only the connection with the current epoch', async () => {
    const h = await presenceHarness();
    const old = await h.login('alice', 'phone', 'n1');
    const cur = await h.login('alice', 'phone', 'n2');
    await h.service.logout('alice', 'phone', old.epoch);
    expect(await h.service.devices('alice')).toHaveLength(1);
    await h.service.logout('alice', 'phone', cur.epoch);
    expect(await h.service.devices('alice')).toEqual([]);
  });

  it('keeps routes alive with heartbeats; without them they expire (protocol.md §6 Heartbeat)', async () => {
    const h = await presenceHarness();
    await h.login('alice', 'phone', 'n1');
    await h.login('bob', 'phone', 'n1');
    const aliceRoutes = await h.service.devices('alice');
    h.clock.advance(800);
    await h.service.heartbeat(aliceRoutes);
    h.clock.advance(800);
    expect(await h.service.devices('alice')).toHaveLength(1);
    expect(await h.service.devices('bob')).toEqual([]);
  });
});
