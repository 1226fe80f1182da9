/**
 * Tracing (docs/architecture.md "Tracing"; core tracing.ts): one MS yields ONE connected trace
 * across edge-1 → message → storage and, through Kafka, to the delivering edge-2. The services run
 * in this process — real gRPC between them, real Redis, Kafka and PostgreSQL — so one in-memory
 * exporter sees every span. No async context is installed: each parent comes from the traceparent
 * carried in the data (SendItem, AppendItem, DeliveredMessage), as across processes.
 */

import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type Config,
  loadConfig,
  setupTracing,
  signDevToken,
  silentLogger,
  type Tracing,
} from '../../packages/core/src/index.js';
import { Command } from '../../packages/protocol/src/index.js';
import { createRegistry, type ServiceParts } from '../../packages/rpc/src/index.js';
import { type EdgeProcess, runEdge } from '../../services/edge/src/process.js';
import { startMessageService } from '../../services/message/src/service.js';
import { startPresenceService } from '../../services/presence/src/service.js';
import { startStorageService } from '../../services/storage/src/service.js';
import { connectAs, type Identity, nextPush, sendOk, textMessage } from '../support/im.js';
import { describeInfra, requireInfra, uniquePrefix, uniqueSchema } from '../support/infra.js';

describeInfra('tracing: one MS, one trace across the cluster', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  const services: ServiceParts[] = [];
  const edges: EdgeProcess[] = [];
  let base: Config;

  beforeAll(async () => {
    const infra = requireInfra();
    const p = uniquePrefix('trace').replace(/_+$/, '');
    base = loadConfig(
      {},
      {
        nodeId: `${p}-svc`,
        logLevel: 'silent',
        redisUrl: infra.redisUrl,
        kafkaBrokers: infra.kafkaBrokers,
        databaseUrl: infra.databaseUrl,
        databaseSchema: uniqueSchema('trace'),
        redisPrefix: `${p}:`,
        kafkaTopicPrefix: `${p}.`,
        auth: { jwtSecret: 'tracing-test-secret-0123456789-0123456789' },
        message: { workerId: 11, leaseWorkerId: false, fanoutLingerMs: 0 },
        admin: { host: '127.0.0.1', port: 0 },
        janitor: { intervalMs: 0 },
        grpc: {
          storageAddr: '127.0.0.1:0',
          presenceAddr: '127.0.0.1:0',
          messageAddr: '127.0.0.1:0',
          deadlineMs: 5_000,
        },
      },
    );
    // Every span is kept: the default sampler (parent-based, always on at the root).
    tracing = setupTracing(base.tracing, 'im-test', { spanProcessor: new SimpleSpanProcessor({ exporter }) });
    const logger = silentLogger();
    const at = (s: ServiceParts) => `127.0.0.1:${s.server.port}`;
    const storage = await startStorageService(base, logger, createRegistry(), { host: '127.0.0.1' });
    services.push(storage);
    const grpc = { ...base.grpc, storageAddr: at(storage) };
    const presence = await startPresenceService({ ...base, grpc }, logger, createRegistry(), {
      host: '127.0.0.1',
    });
    services.push(presence);
    const message = await startMessageService({ ...base, grpc }, logger, createRegistry(), {
      host: '127.0.0.1',
    });
    services.push(message);
    for (const nodeId of ['edge-1', 'edge-2']) {
      edges.push(
        await runEdge({
          config: {
            ...base,
            nodeId,
            edge: { ...base.edge, host: '127.0.0.1', port: 0 },
            grpc: { ...grpc, presenceAddr: at(presence), messageAddr: at(message) },
          },
          nodeId,
          logger,
          registry: createRegistry(),
        }),
      );
    }
  }, 90_000);

  afterAll(async () => {
    for (const e of edges) await e.shutdown('test over');
    for (const s of services.reverse()) {
      await s.server.close();
      await s.close();
    }
    await tracing?.shutdown();
  });

  it('edge MS → message → storage → fan-out → Kafka → edge delivery: one trace, each span the child of the one before', async () => {
    const [e1, e2] = edges as [EdgeProcess, EdgeProcess];
    const id = async (userId: string): Promise<Identity> => ({
      userId,
      deviceId: 'd1',
      token: await signDevToken(base.auth.jwtSecret, userId, 600),
    });
    const b = (await connectAs({ host: '127.0.0.1', port: e2.port }, await id('bob'))).c;
    const a = (await connectAs({ host: '127.0.0.1', port: e1.port }, await id('alice'))).c;
    exporter.reset();

    const ack = await sendOk(a, textMessage('bob', 'follow me'));
    const push = await nextPush(b, 15_000);
    expect(push.message.messageUid).toBe(ack.messageUid);

    const names = ['im.edge.MS', 'im.message.send', 'im.storage.append', 'im.fanout', 'im.edge.deliver'];
    const finished = () => exporter.getFinishedSpans();
    await expect
      .poll(() => names.every((n) => finished().some((s) => s.name === n)), { timeout: 10_000 })
      .toBe(true);
    const spans = finished();
    const one = (name: string): ReadableSpan => {
      const found = spans.filter((s) => s.name === name);
      expect(found, name).toHaveLength(1);
      return found[0] as ReadableSpan;
    };
    const [ms, send, append, fanout, deliver] = names.map(one) as ReadableSpan[] as [
      ReadableSpan,
      ReadableSpan,
      ReadableSpan,
      ReadableSpan,
      ReadableSpan,
    ];

    // One trace: the edge's MS span is its root, and every other span hangs off the one before.
    const traceId = ms.spanContext().traceId;
    expect(ms.parentSpanContext).toBeUndefined();
    for (const s of spans) expect(s.spanContext().traceId, s.name).toBe(traceId);
    const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
    expect(parentOf(send)).toBe(ms.spanContext().spanId);
    expect(parentOf(append)).toBe(send.spanContext().spanId);
    expect(parentOf(fanout)).toBe(send.spanContext().spanId);
    expect(parentOf(deliver)).toBe(fanout.spanContext().spanId);

    // Where each ran: the MS on edge-1, its delivery on edge-2, the message the same throughout.
    expect(ms.attributes['im.node']).toBe('edge-1');
    expect(deliver.attributes['im.node']).toBe('edge-2');
    expect(ms.attributes['im.message_uid']).toBe(String(ack.messageUid));
    expect(send.attributes['im.message_uid']).toBe(String(ack.messageUid));
    expect(fanout.attributes['im.message_uid']).toBe(String(ack.messageUid));

    // Nothing but the MS path traces: a PING makes no span.
    exporter.reset();
    expect((await a.request({ command: Command.PING })).status).toBe(0);
    expect(finished()).toEqual([]);
    a.close();
    b.close();
  });
});
