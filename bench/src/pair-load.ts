/**
 * The pair load's coordinator: forks the generator processes (pair-worker.ts), has them open the
 * sender→recipient pairs, runs one offered rate at a time, samples the CPU of the measured
 * processes at the window's edges (cpu-meter.ts), prints progress every second, and merges the
 * workers' figures into one result per rate.
 */
import { type ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Endpoint } from './args.js';
import { type CpuSample, type CpuTarget, cpuWindow, perMessage, sampleCpu } from './cpu-meter.js';
import { LatencyRecorder } from './latency.js';
import type { DriverSpec } from './pair-driver.js';
import type { PairRunResult } from './pair-report.js';
import type { OpenTask, RunTask, TickReport, WorkerMessage, WorkerRunResult } from './pair-worker.js';
import { rssBytes } from './proc-stat.js';
import { errorCount, formatErrors } from './report.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'pair-worker.ts');
/** Time for every worker to get the run command before pacing starts. */
const START_LEAD_MS = 300;
const PROGRESS_MS = 1000;

export interface PairLoadOptions {
  driver: DriverSpec;
  pairs: number;
  senderAt: Endpoint[];
  recipientAt: Endpoint[];
  workers: number;
  bodyBytes: number;
  maxOutstanding: number;
  connectConcurrency: number;
  log: (line: string) => void;
  quiet: boolean;
}

export interface RunSpec {
  label: string;
  rate: number;
  warmupS: number;
  durationS: number;
  drainS: number;
  /** The processes whose CPU is measured; the generator's own processes are added (apart). */
  targets: CpuTarget[];
}

interface Worker {
  child: ChildProcess;
  pairs: number;
  listeners: Set<(m: WorkerMessage) => void>;
}

const epochNow = () => performance.timeOrigin + performance.now();

export class PairLoad {
  #runId = 0;
  private constructor(
    private readonly opts: PairLoadOptions,
    private readonly workers: Worker[],
  ) {}

  /** Pids of the generator: this process and its workers. */
  get generatorPids(): number[] {
    return [process.pid, ...this.workers.map((w) => w.child.pid as number)];
  }

  /** Forks the workers and opens every pair; rejects with the first worker's failure. */
  static async open(opts: PairLoadOptions): Promise<PairLoad> {
    const n = Math.min(opts.workers, opts.pairs);
    const per = Math.ceil(opts.pairs / n);
    const workers: Worker[] = [];
    const opened: number[] = [];
    const started = performance.now();
    const ready: Promise<void>[] = [];
    for (let w = 0; w < n; w++) {
      const from = w * per;
      const count = Math.min(per, opts.pairs - from);
      if (count <= 0) break;
      const child = fork(WORKER, [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const worker: Worker = { child, pairs: count, listeners: new Set() };
      child.on('message', (m: WorkerMessage) => {
        for (const l of worker.listeners) l(m);
      });
      workers.push(worker);
      opened.push(0);
      ready.push(
        new Promise<void>((ok, fail) => {
          const l = (m: WorkerMessage) => {
            if (m.type === 'opening') opened[w] = m.opened;
            else if (m.type === 'opened') {
              opened[w] = m.opened;
              worker.listeners.delete(l);
              ok();
            } else if (m.type === 'failed') fail(new Error(`generator process ${w}: ${m.error}`));
          };
          worker.listeners.add(l);
          child.once('exit', (code) => fail(new Error(`generator process ${w} exited with ${code}`)));
        }),
      );
      const task: OpenTask = {
        type: 'open',
        driver: opts.driver,
        from,
        count,
        senderAt: opts.senderAt,
        recipientAt: opts.recipientAt,
        concurrency: Math.max(1, Math.ceil(opts.connectConcurrency / n)),
        bodyBytes: opts.bodyBytes,
        maxOutstanding: opts.maxOutstanding,
      };
      child.send(task);
    }
    const load = new PairLoad(opts, workers);
    const progress = setInterval(() => {
      const k = opened.reduce((a, b) => a + b, 0);
      opts.log(`connecting: ${k}/${opts.pairs} pairs open`);
    }, PROGRESS_MS);
    try {
      await Promise.all(ready);
    } catch (err) {
      await load.close();
      throw err;
    } finally {
      clearInterval(progress);
    }
    opts.log(
      `${opts.pairs} pairs open from ${workers.length} generator process(es) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    return load;
  }

  /** One offered rate: pace, measure, drain; the merged figures with the CPU of every target. */
  async run(spec: RunSpec): Promise<PairRunResult> {
    const runId = ++this.#runId;
    const { opts } = this;
    const targets: CpuTarget[] = [
      ...spec.targets,
      { name: 'generator', pids: this.generatorPids, tree: false, apart: true },
    ];
    const startAt = epochNow() + START_LEAD_MS;
    const warmupMs = spec.warmupS * 1000;
    const durationMs = spec.durationS * 1000;
    const windowStartAt = startAt + warmupMs;
    const windowEndAt = windowStartAt + durationMs;

    // Progress: the workers' ticks of the last second, merged.
    const tick = {
      sent: 0,
      acked: 0,
      delivered: 0,
      skipped: 0,
      errors: 0,
      outstanding: new Map<number, number>(),
    };
    const tickAck = new LatencyRecorder();
    const tickPush = new LatencyRecorder();
    let lastCpu = sampleCpu(targets);
    const progress = setInterval(() => {
      const now = epochNow();
      const phase = now < windowStartAt ? 'warmup' : now < windowEndAt ? 'measure' : 'drain';
      const cpu = sampleCpu(targets);
      const w = cpuWindow(lastCpu, cpu);
      lastCpu = cpu;
      let serverCores = 0;
      for (const t of spec.targets) serverCores += (w.us[t.name] ?? 0) / 1e6 / w.seconds;
      const genCores = (w.us.generator ?? 0) / 1e6 / w.seconds;
      const inFlight = [...tick.outstanding.values()].reduce((a, b) => a + b, 0);
      if (!opts.quiet) {
        opts.log(
          `[${spec.label} ${((now - startAt) / 1000).toFixed(0).padStart(3)}s ${phase.padEnd(7)}] ` +
            `sent ${tick.sent}/s acked ${tick.acked}/s delivered ${tick.delivered}/s  ` +
            `ack p50/p99 ${tickAck.percentileMs(50).toFixed(1)}/${tickAck.percentileMs(99).toFixed(1)} ms  ` +
            `push p50/p99 ${tickPush.percentileMs(50).toFixed(1)}/${tickPush.percentileMs(99).toFixed(1)} ms  ` +
            `in flight ${inFlight}  skipped@cap ${tick.skipped}  errors ${tick.errors}  ` +
            `CPU servers ${serverCores.toFixed(2)} generator ${genCores.toFixed(2)} cores`,
        );
      }
      tick.sent = tick.acked = tick.delivered = tick.skipped = tick.errors = 0;
      tickAck.reset();
      tickPush.reset();
    }, PROGRESS_MS);

    // CPU at the window's edges.
    let cpuStart: CpuSample | undefined;
    let cpuEnd: CpuSample | undefined;
    const edgeTimers = [
      setTimeout(
        () => {
          cpuStart = sampleCpu(targets);
        },
        Math.max(0, windowStartAt - epochNow()),
      ),
      setTimeout(
        () => {
          cpuEnd = sampleCpu(targets);
        },
        Math.max(0, windowEndAt - epochNow()),
      ),
    ];

    const results = await Promise.all(
      this.workers.map(
        (w, i) =>
          new Promise<WorkerRunResult>((ok, fail) => {
            // A generator process that dies mid-run must fail the run, not hang it.
            const onExit = (code: number | null) =>
              fail(new Error(`generator process ${i} exited with ${code}`));
            w.child.once('exit', onExit);
            const l = (m: WorkerMessage) => {
              if (m.type === 'tick' && m.runId === runId) addTick(i, m);
              else if (m.type === 'result' && m.runId === runId) {
                w.listeners.delete(l);
                w.child.off('exit', onExit);
                ok(m);
              } else if (m.type === 'failed') fail(new Error(`generator process ${i}: ${m.error}`));
            };
            w.listeners.add(l);
            const task: RunTask = {
              type: 'run',
              runId,
              rate: (spec.rate * w.pairs) / opts.pairs,
              startAt,
              warmupMs,
              durationMs,
              drainMs: spec.drainS * 1000,
            };
            w.child.send(task);
          }),
      ),
    ).finally(() => {
      clearInterval(progress);
      for (const t of edgeTimers) clearTimeout(t);
    });

    function addTick(worker: number, m: TickReport): void {
      tick.sent += m.sent;
      tick.acked += m.acked;
      tick.delivered += m.delivered;
      tick.skipped += m.skipped;
      tick.errors += m.errors;
      tick.outstanding.set(worker, m.outstanding);
      tickAck.addEncoded(m.ack);
      tickPush.addEncoded(m.push);
    }

    // The generators answer only after the window and its drain, but with nothing left to drain
    // their result can beat this process's end-of-window timer by a few ms: sample now.
    cpuEnd ??= sampleCpu(targets);
    if (!cpuStart) throw new Error('the CPU was not sampled at the start of the window');
    return merge(spec, opts, results, cpuStart, cpuEnd, targets);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((ok) => {
            if (w.child.exitCode !== null || w.child.signalCode !== null) return ok();
            w.child.once('exit', () => ok());
            w.child.send({ type: 'close' });
            setTimeout(() => w.child.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
  }
}

function merge(
  spec: RunSpec,
  opts: PairLoadOptions,
  results: WorkerRunResult[],
  cpuStart: CpuSample,
  cpuEnd: CpuSample,
  targets: CpuTarget[],
): PairRunResult {
  const ack = new LatencyRecorder();
  const push = new LatencyRecorder();
  const win = { sent: 0, acked: 0, delivered: 0, skipped: 0 };
  const measured = { sent: 0, acked: 0, failed: 0, delivered: 0 };
  const errors: Record<string, number> = {};
  let lag = 0;
  for (const r of results) {
    ack.addEncoded(r.ack);
    push.addEncoded(r.push);
    for (const k of Object.keys(win) as (keyof typeof win)[]) win[k] += r.window[k];
    for (const k of Object.keys(measured) as (keyof typeof measured)[]) measured[k] += r.measured[k];
    for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    lag = Math.max(lag, r.maxPacerLagMs);
  }
  const unacked = measured.sent - measured.acked - measured.failed;
  if (unacked > 0) errors.unacked = unacked;
  const undelivered = measured.acked - measured.delivered;
  if (undelivered > 0) errors.undelivered = undelivered;
  if (lag > 50)
    opts.log(`note: the pacer fell up to ${lag.toFixed(0)} ms behind (the generator was short of CPU)`);
  const seconds = spec.durationS;
  const deliveredPerS = win.delivered / seconds;
  const window = cpuWindow(cpuStart, cpuEnd);
  const cpu = perMessage(targets, window, deliveredPerS);
  const load1 = Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
  let rss = 0;
  for (const t of targets) if (!t.apart) for (const pid of t.pids) rss += rssBytes(pid, t.tree) ?? 0;
  opts.log(
    `${spec.label}: done, ${errorCount(errors)} errors (${formatErrors(errors)}); load average ${load1}`,
  );
  return {
    label: spec.label,
    rateOffered: spec.rate,
    durationS: seconds,
    connections: 2 * opts.pairs,
    mix: 'pairs',
    loadAverage1m: load1,
    serverRssMiB: Math.round(rss / 1024 / 102.4) / 10,
    bodyBytes: opts.bodyBytes,
    sentPerS: round1(win.sent / seconds),
    ackedPerS: round1(win.acked / seconds),
    deliveredPerS: round1(deliveredPerS),
    skippedAtCap: win.skipped,
    ack: ack.summary(),
    push: push.summary(),
    errors,
    totals: { sent: measured.sent, acked: measured.acked, delivered: measured.delivered, pulled: 0 },
    cpu: {
      seconds: Math.round(window.seconds * 1000) / 1000,
      us: roundAll(window.us),
      perMessage: roundAll(cpu.perMessage),
      totalPerMessage: Math.round(cpu.total * 10) / 10,
      cores: roundAll(cpu.cores, 3),
      processes: targets.filter((t) => !t.apart).map((t) => t.name),
    },
  };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function roundAll(o: Record<string, number>, digits = 1): Record<string, number> {
  const f = 10 ** digits;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) out[k] = Math.round(v * f) / f;
  return out;
}
