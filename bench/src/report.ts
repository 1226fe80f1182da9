/**
 * The result of one load run, as the JSON report carries it, and its text table. Pure: the
 * table is a function of the figures, so the summary printed at the end of `bench:embedded` and the
 * per-run tables agree.
 */
import { formatMs, formatRate, type LatencySummary } from './latency.js';

export interface RunResult {
  /** Label of the run, e.g. "embedded one-to-one 64 B". */
  label: string;
  /** Offered send rate (what the pacer aimed at), messages per second. */
  rateOffered: number;
  durationS: number;
  connections: number;
  mix: string;
  bodyBytes: number;
  /** Events inside the measured window divided by its length. */
  sentPerS: number;
  ackedPerS: number;
  deliveredPerS: number;
  /** Due sends a connection could not make because it had max-outstanding unacked sends. */
  skippedAtCap: number;
  ack: LatencySummary;
  push: LatencySummary;
  /** Error responses to MS by status name, plus `unacked` (no SendAck by the end of the drain),
   * `closed` (connections the server closed) and `undelivered` (acked in the window, never pushed). */
  errors: Record<string, number>;
  totals: { sent: number; acked: number; delivered: number; pulled: number };
}

export function errorCount(errors: Record<string, number>): number {
  return Object.values(errors).reduce((a, b) => a + b, 0);
}

export function formatErrors(errors: Record<string, number>): string {
  const parts = Object.entries(errors)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}=${n}`);
  return parts.length === 0 ? '0' : parts.join(' ');
}

const COLUMNS = [
  'offered/s',
  'sent/s',
  'acked/s',
  'delivered/s',
  'ack p50',
  'p90',
  'p99',
  'p99.9',
  'max',
  'push p50',
  'p90',
  'p99',
  'p99.9',
  'max',
  'errors',
] as const;

function row(r: RunResult): string[] {
  const lat = (s: LatencySummary) => [s.p50, s.p90, s.p99, s.p999, s.max].map((v) => formatMs(v, s.count));
  return [
    formatRate(r.rateOffered),
    formatRate(r.sentPerS),
    formatRate(r.ackedPerS),
    formatRate(r.deliveredPerS),
    ...lat(r.ack),
    ...lat(r.push),
    formatErrors(r.skippedAtCap > 0 ? { ...r.errors, 'skipped@cap': r.skippedAtCap } : r.errors),
  ];
}

/** A Markdown table (latencies in ms), readable as plain text too; one row per run. */
export function formatTable(results: readonly RunResult[]): string {
  const rows = [Array.from(COLUMNS), ...results.map(row)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i] as number)).join(' | ')} |`;
  const sep = `|${widths.map((w) => `${'-'.repeat(w + 1)}:`).join('|')}|`;
  return [line(rows[0] as string[]), sep, ...rows.slice(1).map(line)].join('\n');
}
