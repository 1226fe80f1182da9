/**
 * The cluster's admin process wiring (cluster.ts): presence and the directories over real gRPC,
 * chatroom presence in real Redis (the registry the message service writes). The services behind
 * gRPC run in-process on memory backends; the full cluster of processes is tested elsewhere.
 */
import {
  type Config,
  type DeepPartial,
  type Delivery,
  loadConfig,
  MemoryBus,
  MemoryChatroomDirectory,
  MemoryGroupDirectory,
  MemoryMessageStore,
  MemoryPublicKeyStore,
  MemoryRouteStore,
  PresenceService,
  RedisChatroomRegistry,
  silentLogger,
} from '@im/core';
import { createRegistry, type RpcServer, servePresence, serveStorage } from '@im/rpc';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInfra, requireInfra, uniqueKeyPrefix } from '../../../test/support/infra.js';
import { type ClusterAdmin, startClusterAdmin } from '../src/index.js';

describeInfra('admin API in the cluster (gRPC + Redis)', () => {
  const servers: RpcServer[] = [];
  let admin: ClusterAdmin;
  let url: string;
  let registry: RedisChatroomRegistry;
  let settings: DeepPartial<Config>;
  const groups = new MemoryGroupDirectory();
  const bus = new MemoryBus();
  const presence = new PresenceService({
    routes: new MemoryRouteStore({ ttlMs: 60_000 }),
    bus,
    keys: new MemoryPublicKeyStore(),
    logger: silentLogger(),
  });
  const kicks: Delivery[] = [];
  const secret = 'cluster-admin-secret';
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${secret}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
    };
  };

  beforeAll(async () => {
    const infra = requireInfra();
    const presenceServer = await servePresence(presence, { host: '127.0.0.1', port: 0 });
    const storageServer = await serveStorage(
      new MemoryMessageStore(),
      { host: '127.0.0.1', port: 0 },
      { groups, chatrooms: new MemoryChatroomDirectory() },
    );
    servers.push(presenceServer, storageServer);
    await bus.subscribe('edge-a', async (b) => void kicks.push(...b));
    const roomKeyPrefix = uniqueKeyPrefix('adminrooms');
    registry = new RedisChatroomRegistry({ url: infra.redisUrl, prefix: roomKeyPrefix, ttlMs: 60_000 });
    settings = {
      logLevel: 'silent',
      redisUrl: infra.redisUrl,
      auth: { jwtSecret: 'jwt-secret-of-at-least-32-bytes!' },
      admin: { host: '127.0.0.1', port: 0, secret },
      grpc: {
        presenceAddr: `127.0.0.1:${presenceServer.port}`,
        storageAddr: `127.0.0.1:${storageServer.port}`,
      },
    };
    // Development tokens are on here: IM_ADMIN_DEV_TOKENS=true.
    const config = loadConfig({ IM_ADMIN_DEV_TOKENS: 'true' }, settings);
    admin = await startClusterAdmin(config, silentLogger(), createRegistry(), {
      roomKeyPrefix,
      serverPublicKey: () => '-----BEGIN PUBLIC KEY-----\n...',
    });
    url = `http://127.0.0.1:${admin.server.port}`;
  });

  afterAll(async () => {
    await admin?.close();
    await registry?.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('is ready when presence, storage and Redis answer; serves /metrics', async () => {
    expect((await call('GET', '/readyz')).status).toBe(200);
    const metrics = await call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('process_cpu');
  });

  it('manages groups in the storage service', async () => {
    expect((await call('POST', '/v1/groups', { groupId: 'g1', members: ['b', 'a'] })).status).toBe(201);
    expect((await call('POST', '/v1/groups/g1/members', { userIds: ['c'] })).body.members).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(await groups.members('g1')).toEqual(['b', 'a', 'c']);
    expect((await call('GET', '/v1/groups/nope')).status).toBe(404);
  });

  it('counts chatroom members from Redis and drops them when the room is deleted', async () => {
    expect((await call('POST', '/v1/chatrooms', { chatroomId: 'live' })).status).toBe(201);
    await registry.join('live', { userId: 'u1', deviceId: 'd', nodeId: 'edge-a', epoch: 1 });
    await registry.join('live', { userId: 'u2', deviceId: 'd', nodeId: 'edge-b', epoch: 2 });
    expect((await call('GET', '/v1/chatrooms/live')).body.members).toBe(2);
    expect((await call('DELETE', '/v1/chatrooms/live')).status).toBe(204);
    expect(await registry.nodes('live')).toEqual([]);
  });

  it('lists devices and kicks through the presence service (kick reaches the owning node)', async () => {
    const { epoch } = await presence.login({
      userId: 'ann',
      deviceId: 'phone',
      nodeId: 'edge-a',
      platform: 1,
      publicKey: new Uint8Array([1, 2, 3]),
    });
    const devices = await call('GET', '/v1/users/ann/devices');
    expect(devices.body.devices).toEqual([{ deviceId: 'phone', nodeId: 'edge-a', platform: 1, epoch }]);
    expect((await call('GET', '/v1/users/ann/public-key')).body.publicKey).toBe('AQID');
    expect((await call('DELETE', '/v1/users/ann/devices/phone')).status).toBe(204);
    await expect.poll(() => kicks.length).toBe(1);
    expect(kicks[0]).toEqual({ kind: 'kick', nodeId: 'edge-a', userId: 'ann', deviceId: 'phone', epoch });
    expect((await call('DELETE', '/v1/users/ann/devices/phone')).status).toBe(404);
  });

  it('issues tokens with the cluster JWT secret and publishes the server key', async () => {
    const tok = await call('POST', '/v1/tokens', { userId: 'ann' });
    expect(tok.status).toBe(200);
    expect(tok.body.token.split('.')).toHaveLength(3);
    expect((await call('GET', '/v1/server/public-key')).body.publicKey).toMatch(/BEGIN PUBLIC KEY/);
  });

  it('issues no development tokens unless IM_ADMIN_DEV_TOKENS=true (docs/security.md, Defaults)', async () => {
    const plain = await startClusterAdmin(loadConfig({}, settings), silentLogger(), createRegistry());
    try {
      const res = await fetch(`http://127.0.0.1:${plain.server.port}/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'ann' }),
      });
      expect(res.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
