import { type Caller, MemoryMessageStore, type MessageApi } from '@im/core';
import { ImError, STATUS_CATALOG, Status } from '@im/protocol';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GRPC_SERVER_DURATION,
  MessageClient,
  type RpcServer,
  StorageClient,
  serveMessage,
  serveStorage,
} from '../src/index.js';
import { caller, deadPort, rejectsWith } from './helpers.js';

const never = <T>() => new Promise<T>(() => {});

/** A MessageApi whose behaviour each test sets: every method runs `answer`. */
function scripted(answer: () => Promise<unknown>): MessageApi {
  return {
    send: () => answer() as never,
    pull: () => answer() as never,
    recall: () => answer() as never,
    head: () => answer() as never,
    heads: async (ids: string[]) => {
      const v = await answer();
      return new Map(ids.map((u) => [u, v as number]));
    },
    joinChatroom: () => answer() as never,
    quitChatroom: () => answer() as never,
    chatroomHeartbeat: () => answer() as never,
  };
}

describe('contract errors cross gRPC (protocol.md §3)', () => {
  let answer: () => Promise<unknown> = async () => 0;
  const registry = new Registry();
  let server: RpcServer;
  let client: MessageClient;
  const alice: Caller = caller('alice');

  beforeAll(async () => {
    server = await serveMessage(
      scripted(() => answer()),
      { host: '127.0.0.1', port: 0, registry },
    );
    client = new MessageClient(`127.0.0.1:${server.port}`, { deadlineMs: 2_000 });
  });

  afterAll(async () => {
    await client.close();
    await server.close();
  });

  const errorStatuses = STATUS_CATALOG.filter((s) => s.code !== Status.OK);

  it.each(errorStatuses)(
    'ImError $name keeps its status, message and retryAfterMs',
    async ({ code, name }) => {
      answer = async () => {
        throw new ImError(code, `nope: ${name} ü`, { retryAfterMs: code * 1000 });
      };
      const { err } = await rejectsWith(client.recall(alice, 1n), code);
      expect(err.message).toBe(`nope: ${name} ü`);
      expect(err.retryAfterMs).toBe(code * 1000);
    },
  );

  it('an unexpected error is INTERNAL and its details stay on the server', async () => {
    answer = async () => {
      throw new TypeError('secret detail');
    };
    const { err } = await rejectsWith(client.head('alice'), Status.INTERNAL);
    expect(err.message).not.toContain('secret detail');
  });

  it('records im_grpc_server_duration_seconds by service, method and code', async () => {
    answer = async () => 3;
    expect(await client.head('alice')).toBe(3);
    answer = async () => {
      throw new ImError(Status.NOT_FOUND, 'x');
    };
    await rejectsWith(client.joinChatroom(alice, 'r'), Status.NOT_FOUND);
    const text = await registry.getSingleMetricAsString(GRPC_SERVER_DURATION);
    expect(text).toContain(
      `${GRPC_SERVER_DURATION}_count{service="im.internal.MessageService",method="Heads",code="OK"}`,
    );
    expect(text).toContain(
      `${GRPC_SERVER_DURATION}_count{service="im.internal.MessageService",method="JoinChatroom",code="NOT_FOUND"} 1`,
    );
  });
});

describe('an unreachable, stopped or hung backend is UNAVAILABLE, never a hang', () => {
  it('nothing listening: UNAVAILABLE well within the deadline', async () => {
    const client = new StorageClient(`127.0.0.1:${await deadPort()}`, { deadlineMs: 3_000 });
    const { ms } = await rejectsWith(client.head('u'), Status.UNAVAILABLE);
    expect(ms).toBeLessThan(3_000);
    await client.close();
  });

  it('server stopped after serving: UNAVAILABLE within the deadline', async () => {
    const server = await serveStorage(new MemoryMessageStore(), { host: '127.0.0.1', port: 0 });
    const client = new StorageClient(`127.0.0.1:${server.port}`, { deadlineMs: 1_500 });
    expect(await client.head('u')).toBe(0);
    await server.close();
    const { ms } = await rejectsWith(client.head('u'), Status.UNAVAILABLE);
    expect(ms).toBeLessThan(1_500 + 200);
    await client.close();
  });

  it('a handler that never answers: UNAVAILABLE at the deadline; close() is still bounded', async () => {
    let started = 0;
    const hang = () => {
      started++;
      return never();
    };
    const server = await serveMessage(scripted(hang), {
      host: '127.0.0.1',
      port: 0,
      shutdownTimeoutMs: 300,
    });
    const client = new MessageClient(`127.0.0.1:${server.port}`, { deadlineMs: 400 });
    const { ms, err } = await rejectsWith(client.head('u'), Status.UNAVAILABLE);
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(400 + 1_000);
    expect(err.message).toContain('DEADLINE_EXCEEDED');

    // Another hung call in flight while closing: tryShutdown waits, forceShutdown ends it.
    const pending = client.head('u').catch((e: unknown) => e);
    await expect.poll(() => started).toBe(2);
    const t0 = performance.now();
    await server.close();
    expect(performance.now() - t0).toBeLessThan(300 + 500);
    expect(((await pending) as ImError).status).toBe(Status.UNAVAILABLE);
    await client.close();
  });

  it('close() lets an in-flight call finish and refuses new ones', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => {
      entered = r;
    });
    const server = await serveMessage(
      scripted(async () => {
        entered();
        await gate;
        return 42;
      }),
      { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 5_000 },
    );
    const client = new MessageClient(`127.0.0.1:${server.port}`, { deadlineMs: 3_000 });
    const inFlight = client.head('u');
    await inHandler;
    const closed = server.close();
    expect(server.close()).toBe(closed); // idempotent: the same shutdown
    await rejectsWith(client.head('u'), Status.UNAVAILABLE);
    release();
    expect(await inFlight).toBe(42);
    await closed;
    await client.close();
  });

  it('a closed client fails at once with UNAVAILABLE', async () => {
    const client = new StorageClient(`127.0.0.1:${await deadPort()}`, { deadlineMs: 1_000 });
    await client.close();
    await client.close();
    const { ms } = await rejectsWith(client.get(1n), Status.UNAVAILABLE);
    expect(ms).toBeLessThan(50);
  });
});
