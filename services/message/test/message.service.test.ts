import { loadConfig, silentLogger } from '@im/core';
import { codec, Status } from '@im/protocol';
import { createRegistry, MessageClient } from '@im/rpc';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeInfra,
  requireInfra,
  uniqueKeyPrefix,
  uniquePrefix,
  uniqueSchema,
  uniqueTopicPrefix,
} from '../../../test/support/infra.js';
import { startStorageService } from '../../storage/src/service.js';
import { startMessageService } from '../src/service.js';

describeInfra('message service: edge → message → storage → PostgreSQL, routes in Redis', () => {
  const registry = createRegistry();
  let storage: Awaited<ReturnType<typeof startStorageService>>;
  let message: Awaited<ReturnType<typeof startMessageService>>;
  let client: MessageClient;
  const p = uniquePrefix('msg');
  const alice = { userId: `${p}alice`, deviceId: 'phone', nodeId: 'edge-1', epoch: 1 };
  const bob = { userId: `${p}bob`, deviceId: 'phone', nodeId: 'edge-2', epoch: 1 };

  beforeAll(async () => {
    const infra = requireInfra();
    storage = await startStorageService(
      loadConfig({}, { databaseUrl: infra.databaseUrl, grpc: { storageAddr: '127.0.0.1:0' } }),
      silentLogger(),
      registry,
      { host: '127.0.0.1', store: { schema: uniqueSchema('msg_svc') } },
    );
    const config = loadConfig(
      {},
      {
        redisUrl: infra.redisUrl,
        kafkaBrokers: infra.kafkaBrokers,
        grpc: {
          storageAddr: `127.0.0.1:${storage.server.port}`,
          messageAddr: '127.0.0.1:0',
          deadlineMs: 2_000,
        },
      },
    );
    message = await startMessageService(config, silentLogger(), registry, {
      host: '127.0.0.1',
      keyPrefix: uniqueKeyPrefix('msg'),
      topicPrefix: uniqueTopicPrefix('msg'),
    });
    client = new MessageClient(`127.0.0.1:${message.server.port}`, { deadlineMs: 5_000 });
  });

  afterAll(async () => {
    await client?.close();
    await message?.server.close();
    await message?.close();
    await storage?.server.close();
    await storage?.close();
  });

  it('stores through the storage service and pulls it back; ready while both answer', async () => {
    expect(await message.ready()).toBe(true);
    const ack = await client.send(
      alice,
      codec.Message.encode({
        messageId: 1n,
        messageContent: {
          contentType: 1,
          searchableContent: 'hi',
          pushContent: '',
          data: new Uint8Array([0, 255]),
          mentionedType: 0,
          mentionedTargets: [],
          mediaType: 0,
          msgLength: 2,
          remoteMediaUrl: '',
          localMediaPath: '',
        },
        conversation: { type: 0, target: bob.userId },
        from: '',
        to: '',
        messageUid: 0n,
        serverTime: 0,
        seq: 0,
      }),
      { e2e: false },
    );
    expect(ack.seq).toBe(1);
    const page = await client.pull(bob, { since: 0, limit: 0, beforeUid: 0n });
    expect(page.messages.map((m) => [m.messageUid, m.from, m.seq])).toStrictEqual([
      [ack.messageUid, alice.userId, 1],
    ]);
    expect(await client.head(bob.userId)).toBe(1);
  });

  it('storage down: not ready, and the edge gets UNAVAILABLE (not INTERNAL, not a hang)', async () => {
    await storage.server.close();
    expect(await message.ready()).toBe(false);
    const t0 = performance.now();
    await expect(client.head(bob.userId)).rejects.toMatchObject({ status: Status.UNAVAILABLE });
    expect(performance.now() - t0).toBeLessThan(2_000 + 500);
  });
});
