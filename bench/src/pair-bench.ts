/**
 * What bench:cluster and bench:peers share: for each system under test in turn, start it, open
 * the pairs, run every offered rate, stop it; then the summary table, the JSON and the SVG chart.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import type { Endpoint } from './args.js';
import { UsageError } from './args.js';
import { type CpuTarget, cpuWindow, sampleCpu } from './cpu-meter.js';
import { describeMachine, machineInfo } from './machine.js';
import type { PairOptions } from './pair-args.js';
import type { DriverSpec } from './pair-driver.js';
import { PairLoad } from './pair-load.js';
import { formatCpuTable, type LabelledResult, pairChart } from './pair-report.js';

export const log = (line: string) => process.stderr.write(`${line}\n`);

/** One system under test, started: where the pairs connect, which processes count, how to stop. */
export interface System {
  label: string;
  driver: DriverSpec;
  senderAt: Endpoint;
  recipientAt: Endpoint;
  targets: CpuTarget[];
  /** Shown in the JSON (versions, commits). */
  describe: string;
  stop(): Promise<void>;
}

export interface PairBenchSpec {
  /** `cluster` or `peers`: the summary's title and the chart's caption. */
  name: string;
  /** Printed before each rate, e.g. "(senders on edge 1, recipients on edge 2)". */
  placement: string;
  opts: PairOptions;
  systems: (() => Promise<System>)[];
  /** Options as shown in the JSON (without secrets). */
  shownOptions: unknown;
}

/** argv → options, or the usage text and exit code 2 on a UsageError (0 for --help). */
export function parseOrUsage<T>(argv: readonly string[], usage: string, parse: () => T): T | number {
  if (argv.includes('--help')) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  try {
    return parse();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${usage}\n`);
      return 2;
    }
    throw err;
  }
}

export async function runPairBench(spec: PairBenchSpec): Promise<LabelledResult[]> {
  const { opts } = spec;
  const machine = machineInfo();
  const loadBefore = os.loadavg();
  log(`machine: ${describeMachine(machine)}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  const rows: LabelledResult[] = [];
  const described: Record<string, string> = {};
  /** Cores per process with no load: the fixed cost that low rates spread over few messages. */
  const idle: Record<string, Record<string, number>> = {};
  let current: System | undefined;
  process.once('SIGINT', () => {
    log('SIGINT: stopping');
    void (current?.stop() ?? Promise.resolve()).then(() => process.exit(130));
  });

  for (const start of spec.systems) {
    const sys = await start();
    current = sys;
    described[sys.label] = sys.describe;
    try {
      const load = await PairLoad.open({
        driver: sys.driver,
        pairs: opts.pairs,
        senderAt: [sys.senderAt],
        recipientAt: [sys.recipientAt],
        workers: opts.workers,
        bodyBytes: opts.bodyBytes,
        maxOutstanding: opts.maxOutstanding,
        connectConcurrency: opts.connectConcurrency,
        log,
        quiet: opts.quiet,
      });
      try {
        if (opts.idleS > 0) idle[sys.label] = await idleBaseline(sys, opts.idleS);
        for (const rate of opts.rates) {
          log(
            `\n=== ${sys.label} ${rate}/s: ${opts.pairs} pairs ${spec.placement}, ${opts.bodyBytes} B, warm-up ${opts.warmupS} s, ${opts.durationS} s measured`,
          );
          const result = await load.run({
            label: `${sys.label} ${rate}/s`,
            rate,
            warmupS: opts.warmupS,
            durationS: opts.durationS,
            drainS: opts.drainS,
            targets: sys.targets,
          });
          rows.push({ system: sys.label, result });
          process.stdout.write(`\n${formatCpuTable([{ system: sys.label, result }])}\n`);
        }
      } finally {
        await load.close();
      }
    } finally {
      await sys.stop();
      current = undefined;
    }
  }

  const loadAfter = os.loadavg();
  process.stdout.write(
    `\n${spec.name}: CPU µs per delivered message, latencies in ms (load average before ${loadBefore[0]?.toFixed(2)}, after ${loadAfter[0]?.toFixed(2)})\n${formatCpuTable(rows)}\n`,
  );
  for (const [system, cores] of Object.entries(idle)) {
    const parts = Object.entries(cores).map(([k, v]) => `${k} ${v.toFixed(3)}`);
    process.stdout.write(`${system} with no load, cores: ${parts.join(', ')}\n`);
  }
  if (opts.json) {
    mkdirSync(dirname(opts.json), { recursive: true });
    const doc = {
      machine,
      loadAverage: { before: loadBefore, after: loadAfter },
      systems: described,
      idleCores: idle,
      options: spec.shownOptions,
      rows,
    };
    writeFileSync(opts.json, `${JSON.stringify(doc, null, 2)}\n`);
    log(`figures written to ${opts.json}`);
  }
  if (opts.svg) {
    mkdirSync(dirname(opts.svg), { recursive: true });
    const caption = `bench:${spec.name}, ${opts.pairs} pairs, ${opts.bodyBytes} B body; ${describeMachine(machine)}`;
    writeFileSync(opts.svg, pairChart(rows, caption));
    log(`chart written to ${opts.svg}`);
  }
  return rows;
}

/** CPU of each process over `seconds` with the pairs open and nothing sent, in cores. */
async function idleBaseline(sys: System, seconds: number): Promise<Record<string, number>> {
  const start = sampleCpu(sys.targets);
  await new Promise((ok) => setTimeout(ok, seconds * 1000));
  const w = cpuWindow(start, sampleCpu(sys.targets));
  const cores: Record<string, number> = {};
  for (const [name, us] of Object.entries(w.us))
    cores[name] = Math.round((us / 1e6 / w.seconds) * 1000) / 1000;
  const total = Object.values(cores).reduce((a, b) => a + b, 0);
  log(
    `${sys.label} with no load (${seconds} s): ${Object.entries(cores)
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(', ')}; total ${total.toFixed(3)} cores`,
  );
  return cores;
}

/** The entry point's tail: exit with main's code, or print the failure and exit 1. */
export function exitWith(name: string, main: Promise<number>): void {
  main.then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${name} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
