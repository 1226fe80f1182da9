/**
 * Latency recording in HdrHistogram (microsecond resolution, 3 significant digits) and the summary
 * the tables and the JSON report print. Values are recorded in µs and reported in ms.
 */
import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from 'hdr-histogram-js';

/** One hour in µs: anything slower is clamped (and still counted) rather than resizing the histogram. */
const HIGHEST_US = 3_600_000_000;

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export class LatencyRecorder {
  readonly #hist: Histogram;

  constructor() {
    this.#hist = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: HIGHEST_US,
      numberOfSignificantValueDigits: 3,
      autoResize: false,
    });
  }

  /** Records a latency given in milliseconds (fractions allowed). */
  recordMs(ms: number): void {
    const us = Math.round(ms * 1000);
    this.#hist.recordValue(Math.min(Math.max(us, 1), HIGHEST_US));
  }

  get count(): number {
    return this.#hist.totalCount;
  }

  /** The percentile in ms (0 when empty). */
  percentileMs(p: number): number {
    return this.#hist.totalCount === 0 ? 0 : this.#hist.getValueAtPercentile(p) / 1000;
  }

  summary(): LatencySummary {
    return summarize(this.#hist);
  }

  reset(): void {
    this.#hist.reset();
  }

  /** The histogram as HdrHistogram's compressed base64, to carry it from a worker process. */
  encode(): string {
    return encodeIntoCompressedBase64(this.#hist);
  }

  /** Adds a histogram another process encoded with encode(). */
  addEncoded(encoded: string): void {
    this.#hist.add(decodeFromCompressedBase64(encoded));
  }
}

export function summarize(
  h: Pick<Histogram, 'totalCount' | 'getValueAtPercentile' | 'maxValue' | 'mean'>,
): LatencySummary {
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  // A percentile is reported as its bucket's upper bound, which can exceed the exact max: clamp it.
  const max = h.maxValue;
  const ms = (us: number) => round3(Math.min(us, max) / 1000);
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(max),
    mean: ms(h.mean),
  };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** A latency in ms for a table cell: 3 significant figures, `-` for no samples. */
export function formatMs(ms: number, count = 1): string {
  if (count === 0) return '-';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

/** A rate for a table cell: whole numbers with thousands separators. */
export function formatRate(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
