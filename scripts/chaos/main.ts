/**
 * `pnpm chaos [--minutes N] [--seed S] ...` (scripts/chaos.sh): the cluster under traffic and
 * faults, then the checks of verdict.ts as a table; exit 1 on any violation (issue 10 item 3).
 *
 * It starts its own PostgreSQL, Redis and Kafka (test/cluster/support/private-*.ts), so it may kill
 * them, and the local cluster on them (scripts/cluster/launch.ts: storage, presence, message,
 * admin, and --edges edges). Then SDK clients send 1:1 and group messages at --rate per second
 * while the seeded fault plan (schedule.ts) kills, freezes and restarts every component in turn,
 * including rolling restarts of the edges. When the time is up the faults stop, the sends finish,
 * the devices get notifyBoundMs to be told of the last acks, every inbox is pulled, and judged.
 *
 * Timers are short so that faults matter within a minute: routes are refreshed every second and
 * live 10 s (a freeze is at most 3 s, below that), heartbeats every 5 s, drain grace 1 s, gRPC
 * deadline 2 s. Logs: .data/chaos/<prefix>/ (kept for the post-mortem).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKafkaJars, startPrivateKafka } from '../../test/cluster/support/private-kafka.js';
import { startPrivatePostgres } from '../../test/cluster/support/private-postgres.js';
import { requireRedisServer, startPrivateRedis } from '../../test/cluster/support/private-redis.js';
import { startCluster } from '../cluster/launch.js';
import { ArgsError, type ChaosArgs, parseArgs } from './args.js';
import {
  type Component,
  inject,
  kafkaComponent,
  postgresComponent,
  processComponent,
  redisComponent,
} from './components.js';
import { connectDevice, type Device, pullInbox } from './devices.js';
import { seeded } from './random.js';
import { faultPlan, faultTargets } from './schedule.js';
import { type Group, Traffic } from './traffic.js';
import { type FaultRecord, formatVerdict, judge } from './verdict.js';

const ROOT = join(import.meta.dirname, '../..');

export const CLUSTER_TIMERS: Record<string, string> = {
  IM_ROUTE_REFRESH_MS: '1000',
  IM_ROUTE_TTL_MS: '10000',
  IM_HEARTBEAT_SECONDS: '5',
  IM_DRAIN_GRACE_MS: '1000',
  IM_GRPC_DEADLINE_MS: '2000',
};
const REQUEST_TIMEOUT_MS = 4_000;
/** A fault is not started when less than this is left of the traffic time. */
const MIN_FAULT_ROOM_MS = 5_000;
/** After the traffic time, unacked sends get this long before they count as never acked. */
const FINISH_SENDS_MS = 30_000;

const log = (msg: string) => process.stderr.write(`[chaos] ${msg}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runChaos(args: ChaosArgs): Promise<boolean> {
  await requireRedisServer();
  requireKafkaJars();
  // Two streams: the traffic draws as many numbers as time allows, the plan must not depend on it.
  const random = seeded(args.seed);
  const planRandom = seeded(args.seed ^ 0x5eed_c4a0);
  const prefix = `chaos${args.seed}_${Date.now().toString(36)}`;
  const logDir = join(ROOT, '.data/chaos', prefix);
  mkdirSync(logDir, { recursive: true });
  log(
    `seed ${args.seed}, ${args.minutes} min, ${args.edges} edges, ${args.users} users, ${args.rate} msg/s; logs in ${logDir}`,
  );

  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  };
  const onSignal = () => void cleanup().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const [pg, redis, kafka] = await Promise.all([
      // Durable: a killed PostgreSQL must keep what it acknowledged, or "missing" would be ours.
      startPrivatePostgres({ durable: true }),
      startPrivateRedis(logDir),
      startPrivateKafka(logDir),
    ]);
    cleanups.push(
      () => pg.destroy(),
      () => redis.destroy(),
      () => kafka.destroy(),
    );
    // Whatever the run left frozen is thawed before anything is stopped.
    cleanups.push(async () => Promise.all([pg.resume(), redis.resume(), kafka.resume()]));
    log(`backends: ${pg.url} ${redis.url} ${kafka.brokers}`);

    const cluster = await startCluster({
      edges: args.edges,
      env: { REDIS_URL: redis.url, KAFKA_BROKERS: kafka.brokers, DATABASE_URL: pg.url, ...CLUSTER_TIMERS },
      prefix,
      logDir,
      readyTimeoutMs: 90_000,
      stopTimeoutMs: 10_000,
    });
    cleanups.push(async () => {
      for (const p of cluster.all()) p.kill('SIGCONT');
      await cluster.stop();
    });
    log(cluster.describe());
    if (!cluster.admin) throw new Error('the chaos run needs the admin service (groups)');

    // ---- users and groups
    const users = Array.from({ length: args.users }, (_, i) => `u${String(i + 1).padStart(3, '0')}`);
    const groups: Group[] = Array.from({ length: Math.max(2, Math.floor(args.users / 4)) }, (_, i) => ({
      id: `g${i + 1}`,
      members: random.shuffle(users).slice(0, Math.min(users.length, 5)).sort(),
    }));
    const adminUrl = `http://127.0.0.1:${cluster.admin.port}`;
    for (const g of groups) {
      const res = await fetch(`${adminUrl}/v1/groups`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cluster.adminSecret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ groupId: g.id, members: g.members }),
      });
      if (res.status !== 201) throw new Error(`creating group ${g.id}: ${res.status} ${await res.text()}`);
    }
    const endpoints = cluster.edges.map((e) => ({ host: e.host, port: e.port }));
    const devices: Device[] = await Promise.all(
      users.map((userId, i) =>
        connectDevice({
          userId,
          endpoints,
          first: i,
          jwtSecret: cluster.jwtSecret,
          requestTimeoutMs: REQUEST_TIMEOUT_MS,
        }),
      ),
    );
    cleanups.push(() => Promise.all(devices.map((d) => d.client.close())));

    // ---- components
    const edges = cluster.edges.map(processComponent);
    const components = new Map<string, Component>(
      [
        ...edges,
        processComponent(cluster.message),
        processComponent(cluster.presence),
        processComponent(cluster.storage),
        redisComponent(redis),
        kafkaComponent(kafka),
        postgresComponent(pg),
      ].map((c) => [c.name, c]),
    );

    // ---- traffic and faults
    const traffic = new Traffic(devices, groups, random);
    const trafficMs = args.minutes * 60_000;
    const startedAt = Date.now();
    const endOfTraffic = startedAt + trafficMs;
    traffic.start(args.rate);
    const faults: FaultRecord[] = [];
    const plan = faultPlan(planRandom, faultTargets(cluster.edges.map((e) => e.name)));
    // A short quiet start, so the first acks show the healthy path.
    await sleep(Math.min(2_000, trafficMs / 10));
    while (endOfTraffic - Date.now() > MIN_FAULT_ROOM_MS) {
      const f = plan.next().value;
      if (!f) break;
      log(`fault: ${f.kind} ${f.target}${f.holdMs ? ` for ${f.holdMs} ms` : ''}`);
      const record = await inject(f, components, edges);
      faults.push(record);
      log(`  healed after ${record.healedAt - record.startAt} ms`);
      await sleep(Math.min(f.gapMs, Math.max(0, endOfTraffic - Date.now())));
    }
    const rest = endOfTraffic - Date.now();
    if (rest > 0) await sleep(rest);
    log('traffic time is up: finishing the sends in flight');
    await traffic.finish(FINISH_SENDS_MS);

    // ---- settle: every device gets the bound to be told of the last acks and faults
    const lastEvent = Math.max(
      ...traffic.record.acked.map((m) => m.ackAt),
      ...faults.map((f) => f.healedAt),
      startedAt,
    );
    const settleUntil = lastEvent + args.notifyBoundMs + 1_000;
    while (Date.now() < settleUntil) await sleep(Math.min(500, settleUntil - Date.now()));
    const endAt = Date.now();
    const offlineAtEnd = devices.filter((d) => d.client.state !== 'connected').map((d) => d.userId);

    log('pulling every inbox');
    const inboxes = await Promise.all(
      devices.filter((d) => d.client.state === 'connected').map((d) => pullInbox(d)),
    );
    const verdict = judge({
      acked: traffic.record.acked,
      devices: devices.map((d) => d.log),
      inboxes,
      faults,
      endAt,
      notifyBoundMs: args.notifyBoundMs,
      givenUp: traffic.record.givenUp,
      unexpectedErrors: traffic.record.unexpectedErrors,
      offlineAtEnd,
      drainHints: devices.reduce((n, d) => n + d.drainHints(), 0),
    });
    const byTarget = new Map<string, string[]>();
    for (const f of faults) byTarget.set(f.target, [...(byTarget.get(f.target) ?? []), f.kind]);
    const report = [
      '',
      `chaos: seed ${args.seed}, ${args.minutes} min of traffic at ${args.rate} msg/s, ${args.users} clients, ${args.edges} edges`,
      `faults: ${[...byTarget].map(([t, k]) => `${t} ${k.join('+')}`).join(', ') || 'none'}`,
      formatVerdict(verdict),
      ...(verdict.examples.length > 0 ? ['examples:', ...verdict.examples.map((e) => `  ${e}`)] : []),
      `chaos: ${verdict.ok ? 'no violations' : 'VIOLATIONS (see above)'}; logs in ${logDir}`,
      '',
    ].join('\n');
    process.stdout.write(report);
    // Next to the logs it is judged against, for a failed CI run read afterwards.
    writeFileSync(join(logDir, 'verdict.txt'), report);
    return verdict.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}

if (process.argv[1]?.endsWith('chaos/main.ts')) {
  let args: ChaosArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    process.stderr.write(`chaos: ${err.message}\n`);
    process.exit(2);
  }
  runChaos(args).then(
    (ok) => process.exit(ok ? 0 : 1),
    (err: unknown) => {
      process.stderr.write(
        `chaos: the run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
