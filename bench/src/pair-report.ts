/**
 * The figures of one pair-load run with the CPU of every measured process, and the table that
 * prints them. Pure: the table is a function of the figures.
 */
import { formatMs, formatRate } from './latency.js';
import { formatErrors, type RunResult } from './report.js';
import { type Line, renderChart } from './svg-chart.js';

export interface PairRunResult extends RunResult {
  /** The machine's 1-minute load average when the run ended (other work on the machine). */
  loadAverage1m: number;
  /** VmRSS summed over the server processes (not the generator) when the run ended, MiB. */
  serverRssMiB?: number;
  cpu: {
    /** Length of the CPU sampling window (the measured window), s. */
    seconds: number;
    /** CPU µs per process over the window. */
    us: Record<string, number>;
    /** CPU µs per delivered message, per process (the generator included, shown apart). */
    perMessage: Record<string, number>;
    /** Sum of perMessage over `processes` (the servers; not the generator). */
    totalPerMessage: number;
    /** Average cores used over the window, per process. */
    cores: Record<string, number>;
    /** The server processes, in table order. */
    processes: string[];
  };
}

/** One table row: which system (root label or server name) and its result at one rate. */
export interface LabelledResult {
  system: string;
  result: PairRunResult;
}

/** µs per message for a cell: whole µs, `-` when the process was not measured. */
export function formatUs(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  return Math.round(v).toLocaleString('en-US');
}

/**
 * A Markdown table, one row per (system, rate): rates, latencies (ms), CPU µs per delivered
 * message per process, their total, the servers' RSS at the end of the run, the generator apart,
 * and the errors.
 */
export function formatCpuTable(rows: readonly LabelledResult[]): string {
  const processes: string[] = [];
  for (const { result } of rows)
    for (const p of result.cpu.processes) if (!processes.includes(p)) processes.push(p);
  const header = [
    'system',
    'offered/s',
    'delivered/s',
    'ack p50',
    'ack p99',
    'push p50',
    'push p99',
    ...processes.map((p) => `${p} µs`),
    'total µs/msg',
    'RSS MiB',
    'generator µs',
    'errors',
  ];
  const body = rows.map(({ system, result: r }) => [
    system,
    formatRate(r.rateOffered),
    formatRate(r.deliveredPerS),
    formatMs(r.ack.p50, r.ack.count),
    formatMs(r.ack.p99, r.ack.count),
    formatMs(r.push.p50, r.push.count),
    formatMs(r.push.p99, r.push.count),
    ...processes.map((p) => formatUs(r.cpu.perMessage[p])),
    formatUs(r.cpu.totalPerMessage),
    formatUs(r.serverRssMiB),
    formatUs(r.cpu.perMessage.generator),
    formatErrors(r.skippedAtCap > 0 ? { ...r.errors, 'skipped@cap': r.skippedAtCap } : r.errors),
  ]);
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 2)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), sep, ...body.map(line)].join('\n');
}

/**
 * The chart of docs/benchmarks.md, against the offered rate: send→push p50 (dashed) and p99
 * (solid), the servers' total CPU per delivered message, and the delivered rate (where it falls
 * below the offered rate the system is saturated); one colour per system.
 */
export function pairChart(rows: readonly LabelledResult[], caption?: string): string {
  const systems = [...new Set(rows.map((r) => r.system))];
  const of = (s: string) => rows.filter((r) => r.system === s).map((r) => r.result);
  const latency: Line[] = systems.flatMap((s, i) => [
    {
      label: `${s} push p99`,
      color: i,
      points: of(s).map((r) => ({ x: r.rateOffered, y: r.push.p99 })),
    },
    {
      label: `${s} push p50`,
      color: i,
      dashed: true,
      points: of(s).map((r) => ({ x: r.rateOffered, y: r.push.p50 })),
    },
  ]);
  const cpu: Line[] = systems.map((s, i) => ({
    label: `${s} total CPU`,
    color: i,
    points: of(s).map((r) => ({ x: r.rateOffered, y: r.cpu.totalPerMessage })),
  }));
  const rates = [...new Set(rows.map((r) => r.result.rateOffered))];
  const delivered: Line[] = [
    ...systems.map((s, i) => ({
      label: `${s} delivered/s`,
      color: i,
      points: of(s).map((r) => ({ x: r.rateOffered, y: r.deliveredPerS })),
    })),
    { label: 'offered', color: -1, dashed: true, points: rates.map((x) => ({ x, y: x })) },
  ];
  return renderChart(
    [
      { title: 'send→push latency', xLabel: 'offered msg/s', yLabel: 'ms (log)', lines: latency },
      { title: 'server CPU per delivered message', xLabel: 'offered msg/s', yLabel: 'µs (log)', lines: cpu },
      {
        title: 'delivered messages per second',
        xLabel: 'offered msg/s',
        yLabel: 'msg/s (log)',
        lines: delivered,
      },
    ],
    caption,
  );
}
