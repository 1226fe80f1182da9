/**
 * Tracing in embedded mode (docs/architecture.md "Tracing"): the same spans as the cluster's but
 * the storage one (the store is called in-process): edge MS → message send → fan-out → edge
 * delivery, one connected trace per MS. The cluster's version, through gRPC and Kafka:
 * test/cluster/tracing.test.ts.
 */
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig, setupTracing, type Tracing } from '../../packages/core/src/index.js';
import { connectAs, nextPush, sendOk, textMessage, uniqueUser } from '../support/im.js';
import { startTestServer, type TestServer } from '../support/server.js';

const exporter = new InMemorySpanExporter();
let srv: TestServer;
let tracing: Tracing;

beforeAll(async () => {
  tracing = setupTracing(loadConfig({}).tracing, 'im-test', {
    spanProcessor: new SimpleSpanProcessor({ exporter }),
  });
  srv = await startTestServer();
});

afterAll(async () => {
  await srv?.close();
  await tracing?.shutdown();
});

it('one MS: edge → message → fan-out → delivery, one trace', async () => {
  const [alice, bob] = [uniqueUser('alice'), uniqueUser('bob')];
  const b = (await connectAs(srv.port, await srv.identity(bob))).c;
  const a = (await connectAs(srv.port, await srv.identity(alice))).c;
  exporter.reset();
  const ack = await sendOk(a, textMessage(bob, 'traced'));
  expect((await nextPush(b)).message.messageUid).toBe(ack.messageUid);
  const names = ['im.edge.MS', 'im.message.send', 'im.fanout', 'im.edge.deliver'];
  await expect
    .poll(() => names.every((n) => exporter.getFinishedSpans().some((s) => s.name === n)))
    .toBe(true);
  const [ms, send, fanout, deliver] = names.map(
    (n) => exporter.getFinishedSpans().find((s) => s.name === n) as ReadableSpan,
  ) as [ReadableSpan, ReadableSpan, ReadableSpan, ReadableSpan];
  expect(new Set(exporter.getFinishedSpans().map((s) => s.spanContext().traceId)).size).toBe(1);
  expect(send.parentSpanContext?.spanId).toBe(ms.spanContext().spanId);
  expect(fanout.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
  expect(deliver.parentSpanContext?.spanId).toBe(fanout.spanContext().spanId);
  a.close();
  b.close();
});
