/**
 * Redraws the chart of bench:cluster / bench:peers from their JSON files, several merged into one
 * chart (e.g. a before and an after run of different sessions):
 *   node --import tsx bench/src/chart.ts docs/bench-cluster.svg before.json after.json
 * Rows keep their system labels; give each run its own labels (--root LABEL=DIR) to tell them apart.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { LabelledResult } from './pair-report.js';
import { pairChart } from './pair-report.js';

const [out, ...inputs] = process.argv.slice(2);
if (!out || inputs.length === 0 || !out.endsWith('.svg')) {
  process.stderr.write('usage: node --import tsx bench/src/chart.ts OUT.svg RUN.json [RUN.json...]\n');
  process.exit(2);
}
const rows: LabelledResult[] = [];
let caption = '';
for (const file of inputs) {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as {
    rows?: LabelledResult[];
    options?: { pairs?: number; bodyBytes?: number };
    loadAverage?: { before?: number[] };
  };
  if (!Array.isArray(doc.rows)) {
    process.stderr.write(`${file}: no "rows" (not a bench:cluster or bench:peers JSON)\n`);
    process.exit(2);
  }
  rows.push(...doc.rows);
  caption ||= `${doc.options?.pairs ?? '?'} pairs, ${doc.options?.bodyBytes ?? '?'} B body`;
}
writeFileSync(out, pairChart(rows, `${caption}; from ${inputs.join(', ')}`));
process.stderr.write(`chart written to ${out}\n`);
