import { describe, expect, it } from 'vitest';
import { connectionsOn, type EdgeMemory, formatIdleTable } from '../src/idle-cluster.js';
import type { LatencySummary } from '../src/latency.js';
import { formatCpuTable, formatUs, type PairRunResult, pairChart } from '../src/pair-report.js';
import { escapeXml, linearTicks, logTicks, renderChart, tickLabel } from '../src/svg-chart.js';

const lat = (p50: number, p99: number): LatencySummary => ({
  count: 100,
  p50,
  p90: p99,
  p99,
  p999: p99,
  max: p99,
  mean: p50,
});

function result(
  rate: number,
  perMessage: Record<string, number>,
  extra: Partial<PairRunResult> = {},
): PairRunResult {
  const processes = Object.keys(perMessage).filter((k) => k !== 'generator');
  return {
    label: `x ${rate}/s`,
    rateOffered: rate,
    durationS: 10,
    connections: 400,
    mix: 'pairs',
    loadAverage1m: 1,
    bodyBytes: 64,
    sentPerS: rate,
    ackedPerS: rate,
    deliveredPerS: rate,
    skippedAtCap: 0,
    ack: lat(1.5, 12),
    push: lat(2.25, 48),
    errors: {},
    totals: { sent: rate * 10, acked: rate * 10, delivered: rate * 10, pulled: 0 },
    cpu: {
      seconds: 10,
      us: {},
      perMessage,
      totalPerMessage: processes.reduce((a, p) => a + (perMessage[p] as number), 0),
      cores: {},
      processes,
    },
    ...extra,
  };
}

describe('formatCpuTable', () => {
  it('prints one row per system and rate, a column per process, the total and the generator apart', () => {
    const text = formatCpuTable([
      { system: 'before', result: result(500, { 'edge-1': 300.4, postgres: 99.6, generator: 120 }) },
      {
        system: 'after',
        result: result(
          3000,
          { 'edge-1': 40, generator: 30 },
          { skippedAtCap: 7, errors: { UNAVAILABLE: 2 }, serverRssMiB: 131.4 },
        ),
      },
    ]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(4);
    const cells = (l: string) =>
      l
        .split('|')
        .map((c) => c.trim())
        .filter(Boolean);
    expect(cells(lines[0] as string)).toEqual([
      'system',
      'offered/s',
      'delivered/s',
      'ack p50',
      'ack p99',
      'push p50',
      'push p99',
      'edge-1 µs',
      'postgres µs',
      'total µs/msg',
      'RSS MiB',
      'generator µs',
      'errors',
    ]);
    expect(cells(lines[2] as string)).toEqual([
      'before',
      '500',
      '500',
      '1.50',
      '12.0',
      '2.25',
      '48.0',
      '300',
      '100',
      '400',
      '-',
      '120',
      '0',
    ]);
    // A process the second system did not have shows as '-'; errors include the skipped sends.
    expect(cells(lines[3] as string)).toEqual([
      'after',
      '3,000',
      '3,000',
      '1.50',
      '12.0',
      '2.25',
      '48.0',
      '40',
      '-',
      '40',
      '131',
      '30',
      'UNAVAILABLE=2 skipped@cap=7',
    ]);
  });

  it('formats µs per message as whole numbers with separators', () => {
    expect(formatUs(1712.4)).toBe('1,712');
    expect(formatUs(undefined)).toBe('-');
    expect(formatUs(Number.NaN)).toBe('-');
  });
});

describe('svg chart', () => {
  it('picks round ticks', () => {
    expect(linearTicks(6000)).toEqual([0, 2000, 4000, 6000]);
    expect(linearTicks(10_000)).toEqual([0, 2000, 4000, 6000, 8000, 10_000]);
    expect(logTicks(1, 1000)).toEqual([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
    expect(logTicks(10, 100)).toEqual([10, 20, 50, 100]);
    expect(logTicks(0.1, 10_000)).toEqual([0.1, 1, 10, 100, 1000, 10_000]);
    expect(tickLabel(2500)).toBe('2.5k');
    expect(tickLabel(0.5)).toBe('0.5');
  });

  it('escapes text', () => {
    expect(escapeXml(`a<b & "c"`)).toBe('a&lt;b &amp; &quot;c&quot;');
  });

  it('draws one polyline per line with its points in rate order, and a legend entry each', () => {
    const svg = renderChart([
      {
        title: 't',
        xLabel: 'x',
        yLabel: 'y',
        lines: [
          {
            label: 'p99',
            color: 0,
            points: [
              { x: 2000, y: 100 },
              { x: 1000, y: 10 },
            ],
          },
          { label: 'p50', color: 0, dashed: true, points: [{ x: 1000, y: 1 }] },
        ],
      },
    ]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('<title>t</title>');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const polylines = [...svg.matchAll(/<polyline points="([^"]+)"/g)].map((m) => m[1] as string);
    expect(polylines).toHaveLength(2);
    const xs = (polylines[0] as string).split(' ').map((p) => Number(p.split(',')[0]));
    expect(xs[0]).toBeLessThan(xs[1] as number);
    // Higher latency is drawn higher up (smaller y).
    const ys = (polylines[0] as string).split(' ').map((p) => Number(p.split(',')[1]));
    expect(ys[1]).toBeLessThan(ys[0] as number);
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain('>p99</text>');
    expect(svg).toContain('>p50</text>');
  });

  it('charts latency and CPU per system from the results', () => {
    const svg = pairChart(
      [
        { system: 'before', result: result(500, { 'edge-1': 300 }) },
        { system: 'before', result: result(1000, { 'edge-1': 250 }) },
        { system: 'after', result: result(500, { 'edge-1': 40 }) },
      ],
      'caption <here>',
    );
    expect(svg).toContain('>before push p99</text>');
    expect(svg).toContain('>after total CPU</text>');
    expect(svg).toContain('caption &lt;here&gt;');
    expect(svg).toContain('>after delivered/s</text>');
    // 2 systems × (p50, p99, CPU, delivered) and the offered rate as a grey reference line.
    expect([...svg.matchAll(/<polyline /g)]).toHaveLength(9);
    expect(svg).toContain('stroke="#999"');
  });
});

describe('idle cluster report', () => {
  it('spreads users round-robin over the edges', () => {
    expect([0, 1, 2].map((e) => connectionsOn(e, 3, 10))).toEqual([4, 3, 3]);
    expect([0, 1, 2].map((e) => connectionsOn(e, 3, 2))).toEqual([1, 1, 0]);
  });

  it('prints RSS per connection per edge and over all edges', () => {
    const mem = (rss: number, heapUsed: number) => ({
      rss,
      heapUsed,
      heapTotal: 0,
      external: 0,
      arrayBuffers: 0,
    });
    const rows: EdgeMemory[] = [
      {
        name: 'edge-1',
        pid: 1,
        connections: 1000,
        before: mem(100 << 20, 10 << 20),
        after: mem((100 << 20) + 4096000, (10 << 20) + 2048000),
      },
      {
        name: 'edge-2',
        pid: 2,
        connections: 1000,
        before: mem(100 << 20, 10 << 20),
        after: mem((100 << 20) + 6144000, (10 << 20) + 2048000),
      },
    ];
    const text = formatIdleTable(rows, 1234.4);
    expect(text).toContain('| edge-1 | 1,000 | 100.0 MiB | 103.9 MiB | 4.00 KiB | 2.00 KiB |');
    expect(text).toContain('| all (2 edges) | 2,000 | 200.0 MiB | 209.8 MiB | 5.00 KiB | 2.00 KiB |');
    expect(text).toContain('logins: 1,234/s');
  });
});
