/**
 * The launcher (scripts/cluster/launch.ts) against the real Redis, Kafka and PostgreSQL: every
 * service a process of its own, ready in dependency order; one message crosses from edge 1 to
 * edge 2 through Kafka and shows up in each process's /metrics; SIGTERM drains an edge
 * (protocol.md §6 Shutdown). The cluster scenarios proper live in the other files of test/cluster.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signDevToken } from '../../packages/core/src/index.js';
import { type Cluster, type EdgeProcess, startCluster } from '../../scripts/cluster/launch.js';
import { connectAs, nextPush, sendOk, text, textMessage } from '../support/im.js';
import { describeInfra, requireInfra, uniquePrefix } from '../support/infra.js';
import { sample } from './support/metrics.js';

const DRAIN_GRACE_MS = 1_500;

async function login(cluster: Cluster, edge: EdgeProcess, userId: string, deviceId: string) {
  const token = await signDevToken(cluster.jwtSecret, userId, 600);
  return (await connectAs({ host: edge.host, port: edge.port }, { userId, deviceId, token })).c;
}

describeInfra('cluster launcher: separate processes on real Redis, Kafka, PostgreSQL', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    const infra = requireInfra();
    cluster = await startCluster({
      edges: 2,
      prefix: uniquePrefix('launch'),
      env: {
        REDIS_URL: infra.redisUrl,
        KAFKA_BROKERS: infra.kafkaBrokers.join(','),
        DATABASE_URL: infra.databaseUrl,
        IM_DRAIN_GRACE_MS: String(DRAIN_GRACE_MS),
        LOG_LEVEL: 'info',
      },
    });
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('starts every service as its own process, each ready on its ops port', async () => {
    const procs = cluster.all();
    expect(procs.map((p) => p.kind)).toEqual(
      expect.arrayContaining(['storage', 'presence', 'message', 'edge']),
    );
    expect(cluster.edges).toHaveLength(2);
    const pids = new Set(procs.map((p) => p.proc.pid));
    expect(pids.size).toBe(procs.length);
    expect(pids.has(process.pid)).toBe(false);
    for (const p of procs) expect(await p.readyz(), p.name).toBe(200);
    expect(new Set(cluster.edges.map((e) => e.nodeId)).size).toBe(2);
  });

  it('delivers alice (edge 1) → bob (edge 2) through Kafka, and the counters move', async () => {
    const [e1, e2] = cluster.edges;
    if (!e1 || !e2) throw new Error('two edges expected');
    const alice = `${cluster.prefix}alice`;
    const bob = `${cluster.prefix}bob`;
    const a = await login(cluster, e1, alice, 'phone');
    const b = await login(cluster, e2, bob, 'phone');
    try {
      const ack = await sendOk(a, textMessage(bob, 'hi bob'));
      expect(ack.messageUid).toBeGreaterThan(0n);
      const { message: pushed } = await nextPush(b, 15_000);
      expect(pushed.messageUid).toBe(ack.messageUid);
      expect(pushed.from).toBe(alice);
      expect(text(pushed)).toBe('hi bob');

      const m1 = await e1.metrics();
      expect(sample(m1, 'im_edge_frames_in_total', { command: 'MS' })).toBeGreaterThanOrEqual(1);
      expect(sample(m1, 'im_edge_frames_out_total', { command: 'MS', status: 'OK' })).toBeGreaterThanOrEqual(
        1,
      );
      expect(sample(m1, 'im_edge_send_ack_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(sample(m1, 'im_edge_connections')).toBeGreaterThanOrEqual(1);
      expect(sample(m1, 'im_edge_bytes_in_total')).toBeGreaterThan(0);
      const m2 = await e2.metrics();
      expect(sample(m2, 'im_edge_frames_out_total', { command: 'MPS', status: 'OK' })).toBeGreaterThanOrEqual(
        1,
      );
      expect(sample(m2, 'im_edge_push_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(sample(m2, 'im_kafka_consume_total', { kind: 'message' })).toBeGreaterThanOrEqual(1);
      expect(sample(m2, 'im_edge_bytes_out_total')).toBeGreaterThan(0);

      const mm = await cluster.message.metrics();
      expect(sample(mm, 'im_message_send_seconds_count', { status: 'OK' })).toBeGreaterThanOrEqual(1);
      expect(sample(mm, 'im_fanout_deliveries_total', { kind: 'message' })).toBeGreaterThanOrEqual(1);
      expect(sample(mm, 'im_kafka_produce_total', { topic: 'deliver', result: 'ok' })).toBeGreaterThanOrEqual(
        1,
      );
      expect(
        sample(mm, 'im_grpc_server_duration_seconds_count', { method: 'SendStream' }),
      ).toBeGreaterThanOrEqual(1);
      const ms = await cluster.storage.metrics();
      expect(sample(ms, 'im_storage_append_seconds_count', { result: 'ok' })).toBeGreaterThanOrEqual(1);
      expect(sample(ms, 'im_storage_append_batch_size_count')).toBeGreaterThanOrEqual(1);
    } finally {
      a.close();
      b.close();
    }
  }, 60_000);

  it('SIGTERM to an edge: /readyz turns 503, its client is closed, it exits 0 within the grace', async () => {
    const edge = cluster.edges[1];
    if (!edge) throw new Error('two edges expected');
    const c = await login(cluster, edge, `${cluster.prefix}carol`, 'pc');
    const started = Date.now();
    edge.kill('SIGTERM');
    // The ops port answers 503 while the edge drains (it closes only once the edge is done).
    let sawDraining = false;
    while (edge.running && Date.now() - started < DRAIN_GRACE_MS + 5_000) {
      const status = await edge.readyz();
      if (status === 503) {
        sawDraining = true;
        break;
      }
      if (status === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(sawDraining, 'readyz answered 503 while draining').toBe(true);
    expect(await c.closedWithin(DRAIN_GRACE_MS + 5_000), 'the drained client is closed').toBe(true);
    const exit = await edge.waitExit(DRAIN_GRACE_MS + 10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(DRAIN_GRACE_MS + 10_000);
    // The other edge still serves.
    expect(await cluster.edges[0]?.readyz()).toBe(200);
  }, 60_000);
});
