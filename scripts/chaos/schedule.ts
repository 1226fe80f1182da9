/**
 * The seeded fault plan: rounds in which every component is hit once, in a seeded order. Round r
 * gives each component the r-th of its kinds (in turn), and every list starts with `kill`, so even
 * one round — the minute of CI's run — crashes every component once, after a rolling restart of
 * the edges; later rounds freeze them and restart them gracefully. Faults run one after another (each healed before the next starts), so
 * every recovery time is known and every notification delay can be charged to the fault it waited
 * for.
 */
import type { Random } from './random.js';

export type FaultKind =
  /** SIGKILL, down for holdMs, started again (a crash; Redis comes back empty). */
  | 'kill'
  /** SIGSTOP for holdMs, then SIGCONT (a stall: connections stay open, nothing answers). */
  | 'pause'
  /** SIGTERM (an edge drains with its hint), started again at once. */
  | 'restart'
  /** Every edge in turn: SIGTERM, drain, start, next (a rollout under load). */
  | 'rolling-restart';

export interface FaultTarget {
  name: string;
  kinds: readonly FaultKind[];
}

export interface PlannedFault {
  target: string;
  kind: FaultKind;
  /** How long a killed component stays down, or a paused one frozen. */
  holdMs: number;
  /** Quiet time after it healed, before the next fault. */
  gapMs: number;
}

/** The rolling restart of all edges is planned as this target. */
export const ALL_EDGES = 'edges';
const BACKENDS = ['redis', 'kafka', 'postgres'];

/** What can be done to each kind of component. */
export function faultTargets(edgeNames: readonly string[]): FaultTarget[] {
  const service: FaultKind[] = ['kill', 'pause', 'restart'];
  return [
    ...edgeNames.map((name) => ({ name, kinds: service })),
    { name: 'message', kinds: service },
    { name: 'presence', kinds: service },
    { name: 'storage', kinds: service },
    { name: 'redis', kinds: ['kill', 'pause'] },
    { name: 'kafka', kinds: ['kill', 'pause'] },
    { name: 'postgres', kinds: ['kill', 'pause'] },
    { name: ALL_EDGES, kinds: ['rolling-restart'] },
  ];
}

export interface PlanLimits {
  /** holdMs range of a pause (keep it below the route TTL: see main.ts) and of a process kill. */
  holdMs: [number, number];
  /**
   * holdMs range of a backend kill: longer, as real broker and database restarts are, and past the
   * message service's publish timeout (10 s) with the restart, where fan-out gives up.
   */
  backendDownMs: [number, number];
  gapMs: [number, number];
}

export const DEFAULT_LIMITS: PlanLimits = {
  holdMs: [500, 3_000],
  backendDownMs: [4_000, 10_000],
  gapMs: [1_000, 3_000],
};

/** Order of the first round: the rolling restart, backends, services, single edges. */
function rank(name: string): number {
  if (name === ALL_EDGES) return 0;
  if (BACKENDS.includes(name)) return 1;
  return /^edge-/.test(name) ? 3 : 2;
}

/** An endless plan: round after round over `targets`, each round in a fresh seeded order. */
export function* faultPlan(
  random: Random,
  targets: readonly FaultTarget[],
  limits: PlanLimits = DEFAULT_LIMITS,
): Generator<PlannedFault> {
  if (targets.length === 0) return;
  for (let round = 0; ; round++) {
    const order = random.shuffle(targets);
    // The first round — all of a one-minute run — opens with a rollout under load, then crashes
    // the backends, then the services (seconds each), and the edges last (a restarted edge takes
    // ~8 s to rejoin its Kafka group): so even one minute crashes Kafka, Redis and PostgreSQL.
    if (round === 0) order.sort((a, b) => rank(a.name) - rank(b.name));
    for (const t of order) {
      const kind = t.kinds[round % t.kinds.length] as FaultKind;
      const hold =
        kind === 'kill' && BACKENDS.includes(t.name)
          ? random.int(...limits.backendDownMs)
          : kind === 'kill' || kind === 'pause'
            ? random.int(...limits.holdMs)
            : 0;
      yield { target: t.name, kind, holdMs: hold, gapMs: random.int(...limits.gapMs) };
    }
  }
}
