import { describe, expect, it } from 'vitest';
import { partitionGroups } from '../src/groups-admin.js';
import { formatMs, LatencyRecorder } from '../src/latency.js';
import { groupOf, summarizeProfile } from '../src/profile-summary.js';
import { formatErrors, formatTable, type RunResult } from '../src/report.js';

describe('LatencyRecorder', () => {
  it('reports percentiles in ms from µs-resolution samples', () => {
    const r = new LatencyRecorder();
    for (let i = 1; i <= 1000; i++) r.recordMs(i / 10); // 0.1 .. 100 ms
    const s = r.summary();
    expect(s.count).toBe(1000);
    expect(s.p50).toBeCloseTo(50, 0);
    expect(s.p99).toBeCloseTo(99, 0);
    expect(s.max).toBeCloseTo(100, 0);
    expect(s.p50).toBeLessThanOrEqual(s.p90);
    expect(s.p999).toBeLessThanOrEqual(s.max);
  });

  it('summarizes an empty recorder as zeros and prints it as a dash', () => {
    const s = new LatencyRecorder().summary();
    expect(s).toMatchObject({ count: 0, p50: 0, max: 0 });
    expect(formatMs(s.p50, s.count)).toBe('-');
    expect(formatMs(1.234)).toBe('1.23');
    expect(formatMs(12.34)).toBe('12.3');
    expect(formatMs(1234.5)).toBe('1235');
  });
});

const result = (over: Partial<RunResult>): RunResult => ({
  label: 'x',
  rateOffered: 30_000,
  durationS: 10,
  connections: 1000,
  mix: 'one-to-one',
  bodyBytes: 64,
  sentPerS: 29_990.4,
  ackedPerS: 6_000,
  deliveredPerS: 5_999,
  skippedAtCap: 0,
  ack: { count: 10, p50: 1.5, p90: 2, p99: 3, p999: 4, max: 5, mean: 1.7 },
  push: { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 },
  errors: {},
  totals: { sent: 1, acked: 1, delivered: 1, pulled: 0 },
  ...over,
});

describe('formatTable', () => {
  it('prints one aligned row per run with rates, latencies and errors', () => {
    const table = formatTable([
      result({}),
      result({ rateOffered: 1000, errors: { TOO_MANY_REQUESTS: 3 }, skippedAtCap: 7 }),
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1); // aligned
    expect(lines[2]).toContain('30,000');
    expect(lines[2]).toContain('29,990');
    expect(lines[2]).toContain('1.50');
    expect(lines[2]).toMatch(/\| +- \|/); // no push samples
    expect(lines[3]).toContain('TOO_MANY_REQUESTS=3 skipped@cap=7');
  });

  it('formats an empty error map as 0', () => {
    expect(formatErrors({})).toBe('0');
    expect(formatErrors({ a: 0, b: 2 })).toBe('b=2');
  });
});

describe('partitionGroups', () => {
  it('puts every user in exactly one group and never leaves a one-member group', () => {
    const users = Array.from({ length: 11 }, (_, i) => `u${i}`);
    const groups = partitionGroups(users, 5, 't');
    expect(groups.map((g) => g.members.length)).toEqual([5, 6]);
    expect(groups.flatMap((g) => g.members).sort()).toEqual([...users].sort());
  });
});

describe('summarizeProfile', () => {
  it('attributes sample time to the sampled node and groups it by where the code lives', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
    const s = summarizeProfile({
      nodes: [
        { id: 1, callFrame: frame('(root)', '') },
        { id: 2, callFrame: frame('(idle)', '') },
        { id: 3, callFrame: frame('decode', 'file:///w/packages/protocol/src/codec.ts') },
        {
          id: 4,
          callFrame: frame(
            'query',
            'file:///w/node_modules/.pnpm/x@1/node_modules/@electric-sql/pglite/dist/a.js',
          ),
        },
      ],
      startTime: 0,
      endTime: 100,
      samples: [2, 3, 4, 4, 3],
      timeDeltas: [50_000, 10_000, 20_000, 20_000, 10_000],
    });
    expect(s.totalMs).toBe(110);
    expect(s.busyMs).toBe(60);
    expect(s.functions[0]).toMatchObject({ name: 'query', ms: 40, share: 66.7 });
    expect(s.groups.map((g) => g.group)).toEqual(['dep: @electric-sql/pglite', 'packages/protocol']);
    expect(groupOf(frame('(garbage collector)', ''))).toBe('(garbage collector)');
    expect(groupOf(frame('x', 'node:internal/streams/writable'))).toBe('node: internal/streams');
  });
});
