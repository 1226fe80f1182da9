/**
 * The cluster of the cluster tests: scripts/cluster/launch.ts (every service a separate OS
 * process, 2 edges by default) on the test backends (REDIS_URL, KAFKA_BROKERS, DATABASE_URL from
 * scripts/test.sh, or private ones a test started), with a unique prefix, short timers where the
 * scenarios need them, and the helpers every file repeats: routes as Redis holds them, log tails
 * for failure messages, a conformance Target.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RedisRouteStore, type Route } from '../../../packages/core/src/index.js';
import { type Cluster, type ClusterOptions, startCluster } from '../../../scripts/cluster/launch.js';
import type { Target } from '../../conformance/target.js';
import type { Endpoint } from '../../support/im.js';
import { requireInfra, uniquePrefix } from '../../support/infra.js';
import type { OfflinePushReader } from './offline-push.js';

export const ROOT = resolve(import.meta.dirname, '../../..');

/** Where cluster logs go: test/.infra/logs/cluster/<prefix> (kept after the run for post-mortems). */
export function clusterLogDir(prefix: string): string {
  const dir = join(ROOT, 'test/.infra/logs/cluster', prefix);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface TestClusterOptions {
  /** Short label of the test file (goes into the prefix). */
  label: string;
  edges?: number;
  /** Settings for every process (config.ts ENV_VARS); the backends default to the test infra's. */
  env?: Record<string, string>;
  serviceEnv?: ClusterOptions['serviceEnv'];
}

export interface TestCluster {
  cluster: Cluster;
  prefix: string;
  redisUrl: string;
  kafkaBrokers: string[];
  /** `<IM_KAFKA_TOPIC_PREFIX>offline-push`; launch.ts sets the topic prefix to `<prefix>.`. */
  offlinePushTopic: string;
  /** One per edge over TCP. */
  endpoints: Endpoint[];
  /** The same edges over WebSocket (protocol.md §1). */
  wsEndpoints: Endpoint[];
  jwtSecret: string;
  /** Live routes of a user, read from Redis (the cluster's route table). */
  routes(userId: string): Promise<Route[]>;
  /** The last lines of every process's log. */
  logTail(lines?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Timers that keep the fault scenarios short; every test file may override them. */
export const FAST_TIMERS: Record<string, string> = {
  IM_DRAIN_GRACE_MS: '300',
  IM_GRPC_DEADLINE_MS: '2000',
};

export async function startTestCluster(opts: TestClusterOptions): Promise<TestCluster> {
  const infra = {
    REDIS_URL: process.env.REDIS_URL ?? '',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
    DATABASE_URL: process.env.DATABASE_URL ?? '',
  };
  const env = { ...infra, ...FAST_TIMERS, ...opts.env };
  if (!env.REDIS_URL || !env.KAFKA_BROKERS || !env.DATABASE_URL) requireInfra(); // throws with the how-to
  const prefix = uniquePrefix(opts.label).replace(/_+$/, '');
  const cluster = await startCluster({
    edges: opts.edges ?? 2,
    env,
    serviceEnv: opts.serviceEnv,
    prefix,
    logDir: clusterLogDir(prefix),
    readyTimeoutMs: 60_000,
    stopTimeoutMs: 10_000,
  });
  const routeStore = new RedisRouteStore({
    url: env.REDIS_URL,
    prefix: `${prefix}:routes:`,
    ttlMs: 60_000,
    redisOptions: { maxRetriesPerRequest: 2, connectTimeout: 2_000 },
  });
  // Scenarios stop Redis on purpose: the reconnect errors of this inspection client are expected.
  (routeStore as unknown as { redis: { on(e: 'error', f: () => void): void } }).redis.on('error', () => {});
  return {
    cluster,
    prefix,
    redisUrl: env.REDIS_URL,
    kafkaBrokers: env.KAFKA_BROKERS.split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    offlinePushTopic: `${prefix}.offline-push`,
    endpoints: cluster.edges.map((e) => ({ host: e.host, port: e.port })),
    wsEndpoints: cluster.edges.map((e) => ({ host: e.host, port: e.wsPort, transport: 'ws' as const })),
    jwtSecret: cluster.jwtSecret,
    async routes(userId) {
      return (await routeStore.lookup([userId])).get(userId) ?? [];
    },
    async logTail(lines = 25) {
      const parts = await Promise.all(
        cluster.all().map(async (p) => `==== ${p.name} (${p.logFile}) ====\n${await p.logTail(lines)}`),
      );
      return parts.join('\n');
    },
    async stop() {
      await Promise.allSettled([cluster.stop(), routeStore.close()]);
    },
  };
}

/**
 * The cluster as a conformance Target (test/conformance/suite.ts), over TCP or WebSocket (the
 * other transport is the target's `alternate`); with a reader of its offline-push topic
 * (./offline-push.ts) the offline-push scenarios run too. close() stops both.
 */
export function clusterTarget(
  c: TestCluster,
  pushes?: OfflinePushReader,
  transport: 'tcp' | 'ws' = 'tcp',
): Target {
  const admin = c.cluster.admin;
  return {
    endpoints: transport === 'ws' ? c.wsEndpoints : c.endpoints,
    alternate: transport === 'ws' ? c.endpoints : c.wsEndpoints,
    jwtSecret: c.jwtSecret,
    // Pushes and kicks cross Kafka (a fetch waits up to 1 s when idle).
    deliveryTimeoutMs: 10_000,
    async devices(userId) {
      return (await c.routes(userId)).map((r) => r.deviceId).sort();
    },
    ...(admin ? { admin: { url: `http://127.0.0.1:${admin.port}`, secret: c.cluster.adminSecret } } : {}),
    ...(pushes ? { offlinePushes: async (userId: string) => pushes.records(userId) } : {}),
    logTail: () => c.logTail(),
    async close() {
      await Promise.allSettled([pushes?.close(), c.stop()]);
    },
  };
}
