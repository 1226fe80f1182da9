/**
 * CPU time of named processes over a measured window, from /proc (proc-stat.ts): sample at the
 * window's start and end, subtract, and divide by what was delivered in the window.
 */
import { clockTicksPerSecond, cpuTicks, type ProcStat, readAllStats } from './proc-stat.js';

export interface CpuTarget {
  /** Row name in the table: `edge-1`, `postgres`, `generator`, ... */
  name: string;
  pids: number[];
  /** Count every process under each pid too (PostgreSQL's connection backends). */
  tree: boolean;
  /** Not part of the servers' total (the load generator). */
  apart?: boolean;
}

export interface CpuSample {
  /** performance.timeOrigin + performance.now() at the sample, ms. */
  atMs: number;
  /** CPU µs per target name; a target whose processes are all gone is missing. */
  us: Record<string, number>;
}

export interface CpuWindow {
  seconds: number;
  /** CPU µs per target over the window. */
  us: Record<string, number>;
}

export function sampleCpu(targets: readonly CpuTarget[]): CpuSample {
  const needAll = targets.some((t) => t.tree);
  const stats: readonly ProcStat[] | undefined = needAll ? readAllStats() : undefined;
  const usPerTick = 1e6 / clockTicksPerSecond();
  const us: Record<string, number> = {};
  for (const t of targets) {
    let ticks = 0;
    let seen = false;
    for (const pid of t.pids) {
      const n = cpuTicks(pid, t.tree, stats);
      if (n !== undefined) {
        ticks += n;
        seen = true;
      }
    }
    if (seen) us[t.name] = ticks * usPerTick;
  }
  return { atMs: performance.timeOrigin + performance.now(), us };
}

/** end − start per target (targets missing at either end are left out: they died or were not found). */
export function cpuWindow(start: CpuSample, end: CpuSample): CpuWindow {
  const us: Record<string, number> = {};
  for (const [name, v] of Object.entries(end.us)) {
    const before = start.us[name];
    if (before !== undefined) us[name] = Math.max(0, v - before);
  }
  return { seconds: (end.atMs - start.atMs) / 1000, us };
}

export interface CpuPerMessage {
  /** CPU µs per delivered message, per target (in the targets' order). */
  perMessage: Record<string, number>;
  /** Sum over the targets that are not `apart`. */
  total: number;
  /** Cores used on average over the window, per target. */
  cores: Record<string, number>;
}

/**
 * Per-message CPU: the window's CPU rate divided by the delivered rate. Both are rates over
 * (nearly) the same window, so a few ms between the sample and the generator's window edges do
 * not bias the figure.
 */
export function perMessage(
  targets: readonly CpuTarget[],
  window: CpuWindow,
  deliveredPerS: number,
): CpuPerMessage {
  const perMsg: Record<string, number> = {};
  const cores: Record<string, number> = {};
  let total = 0;
  for (const t of targets) {
    const us = window.us[t.name];
    if (us === undefined || window.seconds <= 0) continue;
    const usPerS = us / window.seconds;
    cores[t.name] = usPerS / 1e6;
    const v = deliveredPerS > 0 ? usPerS / deliveredPerS : Number.NaN;
    perMsg[t.name] = v;
    if (!t.apart) total += v;
  }
  return { perMessage: perMsg, total, cores };
}
