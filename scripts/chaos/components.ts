/**
 * Everything the chaos run may break, behind one shape: the cluster's processes
 * (scripts/cluster/launch.ts) and the private PostgreSQL, Redis and Kafka it started
 * (test/cluster/support/private-*.ts), each killed, frozen or restarted by its own process id.
 */

import type { PrivateKafka } from '../../test/cluster/support/private-kafka.js';
import type { PrivatePostgres } from '../../test/cluster/support/private-postgres.js';
import type { PrivateRedis } from '../../test/cluster/support/private-redis.js';
import type { ClusterProcess } from '../cluster/launch.js';
import { ALL_EDGES, type PlannedFault } from './schedule.js';
import type { FaultRecord } from './verdict.js';

export interface Component {
  readonly name: string;
  /** SIGKILL; resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts it after a kill; resolves once it answers (readyz, PING, metadata, connect). */
  start(): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Graceful: SIGTERM (an edge drains), then start. */
  restart(): Promise<void>;
}

export function processComponent(p: ClusterProcess): Component {
  return {
    name: p.name,
    async kill() {
      p.kill('SIGKILL');
      await p.waitExit();
    },
    start: () => p.start(),
    pause: async () => p.kill('SIGSTOP'),
    resume: async () => p.kill('SIGCONT'),
    restart: () => p.restart(),
  };
}

export function redisComponent(r: PrivateRedis): Component {
  return {
    name: 'redis',
    kill: () => r.kill(),
    start: () => r.start(),
    pause: async () => r.pause(),
    resume: async () => r.resume(),
    async restart() {
      await r.stop();
      await r.start();
    },
  };
}

export function kafkaComponent(k: PrivateKafka): Component {
  return {
    name: 'kafka',
    kill: () => k.kill(),
    start: () => k.start(),
    pause: async () => k.pause(),
    resume: async () => k.resume(),
    async restart() {
      await k.kill();
      await k.start();
    },
  };
}

export function postgresComponent(pg: PrivatePostgres): Component {
  return {
    name: 'postgres',
    // pg_ctl stop -m immediate: every backend is gone at once, as in a crash.
    kill: () => pg.stop(),
    start: () => pg.start(),
    pause: () => pg.pause(),
    resume: () => pg.resume(),
    async restart() {
      await pg.stop();
      await pg.start();
    },
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Carries out one planned fault and waits until the component is back: the record's healedAt is
 * when it answered again, so verdict.ts can measure notification delays from there.
 */
export async function inject(
  fault: PlannedFault,
  byName: ReadonlyMap<string, Component>,
  edges: readonly Component[],
): Promise<FaultRecord> {
  const startAt = Date.now();
  if (fault.kind === 'rolling-restart') {
    if (fault.target !== ALL_EDGES) throw new Error(`rolling-restart of ${fault.target}`);
    for (const e of edges) await e.restart();
    return { target: fault.target, kind: fault.kind, startAt, healedAt: Date.now() };
  }
  const c = byName.get(fault.target);
  if (!c) throw new Error(`no component named ${fault.target}`);
  if (fault.kind === 'kill') {
    await c.kill();
    await sleep(fault.holdMs);
    await c.start();
  } else if (fault.kind === 'pause') {
    await c.pause();
    try {
      await sleep(fault.holdMs);
    } finally {
      await c.resume();
    }
  } else {
    await c.restart();
  }
  return { target: fault.target, kind: fault.kind, startAt, healedAt: Date.now() };
}
