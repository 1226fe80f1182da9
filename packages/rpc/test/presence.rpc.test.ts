import {
  type Delivery,
  type LoginInput,
  MemoryBus,
  MemoryPublicKeyStore,
  MemoryRouteStore,
  type PresenceApi,
  PresenceService,
  type Route,
  silentLogger,
} from '@im/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PresenceClient, type RpcServer, servePresence } from '../src/index.js';
import { ALL_BYTES } from './helpers.js';

const login = (
  userId: string,
  deviceId: string,
  nodeId: string,
  publicKey = new Uint8Array(0),
): LoginInput => ({
  userId,
  deviceId,
  nodeId,
  platform: 2,
  publicKey,
});

describe('PresenceClient ↔ servePresence(PresenceService over memory backends)', () => {
  const bus = new MemoryBus();
  const kicks: Delivery[] = [];
  let server: RpcServer;
  let client: PresenceClient;

  beforeAll(async () => {
    await bus.subscribe('edge-1', async (batch) => {
      kicks.push(...batch);
    });
    const service = new PresenceService({
      routes: new MemoryRouteStore({ ttlMs: 60_000 }),
      bus,
      keys: new MemoryPublicKeyStore(),
      logger: silentLogger(),
    });
    server = await servePresence(service, { host: '127.0.0.1', port: 0 });
    client = new PresenceClient(`127.0.0.1:${server.port}`, { deadlineMs: 2_000 });
  });

  afterAll(async () => {
    await client.close();
    await server.close();
    await bus.close();
  });

  it('login registers routes with growing epochs; a second login of the device kicks the first', async () => {
    const first = await client.login(login('alice', 'phone', 'edge-1', ALL_BYTES));
    const tablet = await client.login(login('alice', 'tablet', 'edge-2'));
    expect(tablet.epoch).toBeGreaterThan(first.epoch);
    expect(await client.publicKey('alice')).toStrictEqual(ALL_BYTES);
    expect(await client.publicKey('bob')).toBeNull();

    const devices = await client.devices('alice');
    expect(devices.sort((a, b) => a.deviceId.localeCompare(b.deviceId))).toStrictEqual([
      { userId: 'alice', deviceId: 'phone', nodeId: 'edge-1', epoch: first.epoch, platform: 2 },
      { userId: 'alice', deviceId: 'tablet', nodeId: 'edge-2', epoch: tablet.epoch, platform: 2 },
    ]);

    const again = await client.login(login('alice', 'phone', 'edge-3'));
    await expect
      .poll(() => kicks)
      .toContainEqual({
        kind: 'kick',
        nodeId: 'edge-1',
        userId: 'alice',
        deviceId: 'phone',
        epoch: first.epoch,
      });

    // A late logout of the old connection does not remove the new route (protocol.md §6 Session).
    await client.logout('alice', 'phone', first.epoch);
    expect((await client.devices('alice')).map((r) => r.epoch).sort()).toStrictEqual(
      [tablet.epoch, again.epoch].sort(),
    );
    await client.logout('alice', 'phone', again.epoch);
    expect((await client.devices('alice')).map((r) => r.deviceId)).toStrictEqual(['tablet']);
    await client.heartbeat(await client.devices('alice'));
    await client.heartbeat([]);
    expect(await client.devices('nobody')).toStrictEqual([]);

    // Admin kick (protocol.md §7): the route goes and the owning node is told, with the epoch.
    await client.login(login('carol', 'phone', 'edge-1'));
    const carol = (await client.devices('carol'))[0];
    expect(await client.kick('carol', 'phone')).toBe(true);
    expect(await client.devices('carol')).toStrictEqual([]);
    expect(await client.kick('carol', 'phone')).toBe(false);
    await expect
      .poll(() => kicks)
      .toContainEqual({
        kind: 'kick',
        nodeId: 'edge-1',
        userId: 'carol',
        deviceId: 'phone',
        epoch: carol?.epoch,
      });
  });

  it('the logins of one turn travel as one LoginBatch; each gets its own epoch, a repeated device kicks its twin', async () => {
    const batches: number[] = [];
    const wire = client as unknown as { loginMany(inputs: LoginInput[]): Promise<{ epoch: number }[]> };
    const loginMany = wire.loginMany.bind(client);
    wire.loginMany = (inputs) => {
      batches.push(inputs.length);
      return loginMany(inputs);
    };
    const users = Array.from({ length: 50 }, (_, i) => `storm${i}`);
    const got = await Promise.all([
      ...users.map((u) => client.login(login(u, 'd1', 'edge-1'))),
      client.login(login('storm0', 'd1', 'edge-2')),
    ]);
    expect(batches).toEqual([51]);
    expect(new Set(got.map((g) => g.epoch)).size).toBe(51);
    // In order: the second login of storm0/d1 replaced the first, which is kicked with its epoch.
    expect((await client.devices('storm0')).map((r) => [r.nodeId, r.epoch])).toEqual([
      ['edge-2', got[50]?.epoch],
    ]);
    await expect
      .poll(() => kicks)
      .toContainEqual({
        kind: 'kick',
        nodeId: 'edge-1',
        userId: 'storm0',
        deviceId: 'd1',
        epoch: got[0]?.epoch,
      });
    // Apart in time, apart on the wire.
    await client.login(login('storm1', 'd2', 'edge-1'));
    await client.login(login('storm2', 'd2', 'edge-1'));
    expect(batches).toEqual([51, 1, 1]);
  });
});

describe('PresenceClient ↔ servePresence: every field exact', () => {
  const calls: unknown[][] = [];
  const routes: Route[] = Array.from({ length: 1_000 }, (_, i) => ({
    userId: `u${i}`,
    deviceId: `d${i % 3}`,
    nodeId: 'edge-ü',
    epoch: Number.MAX_SAFE_INTEGER - i,
    platform: i % 6,
  }));
  const keys = new Map<string, Uint8Array>([
    ['full', ALL_BYTES],
    ['empty', new Uint8Array(0)],
  ]);
  const impl: PresenceApi = {
    async login(input) {
      calls.push(['login', input]);
      return { epoch: Number.MAX_SAFE_INTEGER };
    },
    async loginMany(inputs) {
      calls.push(['loginMany', inputs]);
      return inputs.map((_, i) => ({ epoch: Number.MAX_SAFE_INTEGER - i }));
    },
    async logout(userId, deviceId, epoch) {
      calls.push(['logout', userId, deviceId, epoch]);
    },
    async heartbeat(batch) {
      calls.push(['heartbeat', batch]);
    },
    async devices(userId) {
      calls.push(['devices', userId]);
      return routes;
    },
    async publicKey(userId) {
      return keys.get(userId) ?? null;
    },
    async kick(userId, deviceId) {
      calls.push(['kick', userId, deviceId]);
      return deviceId === 'online';
    },
  };
  let server: RpcServer;
  let client: PresenceClient;

  beforeAll(async () => {
    server = await servePresence(impl, { host: '127.0.0.1', port: 0 });
    client = new PresenceClient(`127.0.0.1:${server.port}`, { deadlineMs: 2_000 });
  });

  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it('round-trips every method; a null key and an empty key stay distinct', async () => {
    const input = login('alice', 'phone', 'edge-1', ALL_BYTES);
    expect(await client.login(input)).toStrictEqual({ epoch: Number.MAX_SAFE_INTEGER });
    await client.logout('alice', 'phone', Number.MAX_SAFE_INTEGER);
    await client.heartbeat(routes);
    expect(await client.devices('alice')).toStrictEqual(routes);
    expect(await client.kick('alice', 'online')).toBe(true);
    expect(await client.kick('alice', 'gone')).toBe(false);
    expect(calls).toStrictEqual([
      ['loginMany', [input]],
      ['logout', 'alice', 'phone', Number.MAX_SAFE_INTEGER],
      ['heartbeat', routes],
      ['devices', 'alice'],
      ['kick', 'alice', 'online'],
      ['kick', 'alice', 'gone'],
    ]);
    expect(await client.publicKey('full')).toStrictEqual(ALL_BYTES);
    expect(await client.publicKey('empty')).toStrictEqual(new Uint8Array(0));
    expect(await client.publicKey('none')).toBeNull();
  });
});
