import { loadConfig, silentLogger } from '@im/core';
import { createRegistry, PresenceClient } from '@im/rpc';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeInfra,
  requireInfra,
  uniqueKeyPrefix,
  uniquePrefix,
  uniqueTopicPrefix,
} from '../../../test/support/infra.js';
import { startPresenceService } from '../src/service.js';

describeInfra('presence service: routes in Redis behind gRPC', () => {
  let presence: Awaited<ReturnType<typeof startPresenceService>>;
  let client: PresenceClient;
  const user = `${uniquePrefix('presence')}alice`;

  beforeAll(async () => {
    const infra = requireInfra();
    const config = loadConfig(
      {},
      { redisUrl: infra.redisUrl, kafkaBrokers: infra.kafkaBrokers, grpc: { presenceAddr: '127.0.0.1:0' } },
    );
    presence = await startPresenceService(config, silentLogger(), createRegistry(), {
      host: '127.0.0.1',
      keyPrefix: uniqueKeyPrefix('presence'),
      topicPrefix: uniqueTopicPrefix('presence'),
    });
    client = new PresenceClient(`127.0.0.1:${presence.server.port}`, { deadlineMs: 5_000 });
  });

  afterAll(async () => {
    await client?.close();
    await presence?.server.close();
    await presence?.close();
  });

  it('login, devices, heartbeat, public key and logout', async () => {
    expect(await presence.ready()).toBe(true);
    const key = new Uint8Array([48, 130, 1, 34]);
    const { epoch } = await client.login({
      userId: user,
      deviceId: 'phone',
      nodeId: 'edge-1',
      platform: 1,
      publicKey: key,
    });
    expect(await client.devices(user)).toStrictEqual([
      { userId: user, deviceId: 'phone', nodeId: 'edge-1', epoch, platform: 1 },
    ]);
    await client.heartbeat(await client.devices(user));
    expect(await client.publicKey(user)).toStrictEqual(key);
    await client.logout(user, 'phone', epoch);
    expect(await client.devices(user)).toStrictEqual([]);
  });
});
