import { MemoryMessageStore, silentLogger } from '@im/core';
import { Status } from '@im/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRegistry,
  GRPC_SERVER_DURATION,
  MessageClient,
  portOf,
  readiness,
  runService,
  type ServiceProcess,
  StorageClient,
  serveMessage,
} from '../src/index.js';
import { serveStorage } from '../src/storage.server.js';
import { rejectsWith } from './helpers.js';

const get = (port: number, path: string) => fetch(`http://127.0.0.1:${port}${path}`);

describe('runService: ops endpoints and graceful, bounded shutdown', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  async function storageProcess(opts: { ready?: () => Promise<boolean>; close?: () => Promise<void> } = {}) {
    const registry = createRegistry();
    const store = new MemoryMessageStore();
    const proc = await runService({
      name: 'storage',
      admin: { host: '127.0.0.1', port: 0 },
      registry,
      logger: silentLogger(),
      signals: [],
      shutdownTimeoutMs: 1_000,
      async start() {
        const server = await serveStorage(store, { host: '127.0.0.1', port: 0, registry });
        return {
          server,
          ready: opts.ready ?? (async () => true),
          close: opts.close ?? (() => store.close()),
        };
      },
    });
    cleanup.push(() => proc.shutdown('test cleanup'));
    const client = new StorageClient(`127.0.0.1:${proc.grpcPort}`, { deadlineMs: 2_000 });
    cleanup.push(() => client.close());
    return { proc, client };
  }

  it('/healthz, /readyz and /metrics (default metrics and the gRPC histogram)', async () => {
    let up = true;
    const { proc, client } = await storageProcess({ ready: async () => up });
    expect(await client.head('u')).toBe(0);

    const health = await get(proc.adminPort, '/healthz');
    expect(health.status).toBe(200);
    expect((await get(proc.adminPort, '/readyz')).status).toBe(200);
    up = false;
    expect((await get(proc.adminPort, '/readyz')).status).toBe(503);
    expect((await get(proc.adminPort, '/nope')).status).toBe(404);

    const metrics = await get(proc.adminPort, '/metrics');
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain(
      `${GRPC_SERVER_DURATION}_count{service="im.internal.StorageService",method="Heads",code="OK"} 1`,
    );
  });

  it('shutdown: readyz 503 at once, in-flight calls finish, backends close after, safe to call twice', async () => {
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => {
      entered = r;
    });
    const registry = createRegistry();
    const proc: ServiceProcess = await runService({
      name: 'message',
      admin: { host: '127.0.0.1', port: 0 },
      registry,
      logger: silentLogger(),
      signals: [],
      async start() {
        const slow = {
          heads: async (ids: string[]) => {
            entered();
            await gate;
            events.push('call done');
            return new Map(ids.map((u) => [u, 5]));
          },
        };
        const server = await serveMessage(slow as never, { host: '127.0.0.1', port: 0 });
        return {
          server,
          ready: async () => true,
          close: async () => {
            events.push('backends closed');
          },
        };
      },
    });
    const client = new MessageClient(`127.0.0.1:${proc.grpcPort}`, { deadlineMs: 3_000 });
    cleanup.push(() => client.close());

    const inFlight = client.head('u');
    await inHandler;
    const first = proc.shutdown('SIGTERM');
    expect(proc.shutdown('SIGTERM again')).toBe(first);
    expect((await get(proc.adminPort, '/readyz')).status).toBe(503);
    expect((await get(proc.adminPort, '/healthz')).status).toBe(200);
    release();
    expect(await inFlight).toBe(5);
    expect(await first).toBe(true);
    expect(events).toStrictEqual(['call done', 'backends closed']);
    await expect(get(proc.adminPort, '/healthz')).rejects.toThrow();
    await rejectsWith(client.head('u'), Status.UNAVAILABLE);
  });

  it('shutdown is bounded: a backend that never closes → false after shutdownTimeoutMs', async () => {
    const { proc } = await storageProcess({ close: () => new Promise(() => {}) });
    const t0 = performance.now();
    expect(await proc.shutdown('SIGTERM')).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1_000 + 500);
  });
});

describe('readiness and portOf', () => {
  it('ready only when every probe resolves (not false) and none throws', async () => {
    expect(await readiness({ a: async () => 1, b: async () => undefined })()).toBe(true);
    expect(await readiness({ a: async () => 1, b: async () => false })()).toBe(false);
    expect(
      await readiness({
        a: async () => {
          throw new Error('down');
        },
      })(),
    ).toBe(false);
  });

  it('takes the port of host:port, [v6]:port and :port', () => {
    expect(portOf('message:7201')).toBe(7201);
    expect(portOf('[::1]:7203')).toBe(7203);
    expect(portOf(':0')).toBe(0);
    expect(() => portOf('message')).toThrow(RangeError);
    expect(() => portOf('message:http')).toThrow(RangeError);
    expect(() => portOf('message:')).toThrow(RangeError);
  });
});
