/**
 * A small SVG line-chart writer for the benchmark figures: panels side by side, each with a linear
 * x axis (offered rate) and a log y axis (latency in ms, CPU in µs span decades), one colour per
 * series and a dash style per line kind. No dependency; the output is plain, deterministic text.
 */

export interface Line {
  /** Legend text, e.g. "before p99". */
  label: string;
  /** Index into the palette (lines of one system share a colour); -1: grey, for a reference line. */
  color: number;
  dashed?: boolean;
  points: { x: number; y: number }[];
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  lines: Line[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const GREY = '#999';
const colorOf = (i: number) => (i < 0 ? GREY : (PALETTE[i % PALETTE.length] as string));
const W = 460;
const H = 320;
const M = { left: 62, right: 14, top: 34, bottom: 46 };
const LEGEND_ROW = 16;

/** Escapes text for an SVG text node or attribute. */
export function escapeXml(s: string): string {
  return s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string,
  );
}

/** Round x-axis ticks: 0 and steps of 1, 2 or 5 × 10^k, about five of them up to `max`. */
export function linearTicks(max: number): number[] {
  if (!(max > 0)) return [0];
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) as number) * mag;
  const ticks: number[] = [];
  for (let v = 0; v <= max * 1.0001; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

/** Log-axis ticks: 1, 2, 5 × 10^k covering [min, max]; only the powers of ten past three decades. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const steps = hi - lo > 3 ? [1] : [1, 2, 5];
  const out: number[] = [];
  for (let e = lo; e <= hi; e++) {
    for (const m of steps) {
      const v = m * 10 ** e;
      if (v >= min / 1.0001 && v <= max * 1.0001) out.push(Number(v.toPrecision(6)));
    }
  }
  return out;
}

/** A tick label: 1.5k for thousands, plain otherwise. */
export function tickLabel(v: number): string {
  if (v >= 1000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

function renderPanel(p: Panel, offsetX: number): string {
  const pts = p.lines.flatMap((l) => l.points).filter((q) => q.y > 0 && Number.isFinite(q.y));
  const xMax = Math.max(1, ...pts.map((q) => q.x));
  const yMinRaw = pts.length ? Math.min(...pts.map((q) => q.y)) : 1;
  const yMaxRaw = pts.length ? Math.max(...pts.map((q) => q.y)) : 10;
  // Whole decades around the data, so the log scale reads at a glance.
  const yMin = 10 ** Math.floor(Math.log10(yMinRaw));
  const yMax = 10 ** Math.ceil(Math.log10(yMaxRaw * 1.0001));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const sx = (x: number) => offsetX + M.left + (x / xMax) * plotW;
  const sy = (y: number) =>
    M.top + plotH - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin) || 1)) * plotH;
  const out: string[] = [];
  out.push(
    `<text x="${offsetX + W / 2}" y="20" text-anchor="middle" font-weight="bold">${escapeXml(p.title)}</text>`,
    `<rect x="${offsetX + M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  );
  for (const t of linearTicks(xMax)) {
    const x = sx(t).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + plotH}" stroke="#eee"/>`,
      `<text x="${x}" y="${M.top + plotH + 16}" text-anchor="middle">${tickLabel(t)}</text>`,
    );
  }
  for (const t of logTicks(yMin, yMax)) {
    const y = sy(t).toFixed(1);
    out.push(
      `<line x1="${offsetX + M.left}" y1="${y}" x2="${offsetX + M.left + plotW}" y2="${y}" stroke="#eee"/>`,
      `<text x="${offsetX + M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${tickLabel(t)}</text>`,
    );
  }
  out.push(
    `<text x="${offsetX + M.left + plotW / 2}" y="${H - 10}" text-anchor="middle">${escapeXml(p.xLabel)}</text>`,
    `<text transform="translate(${offsetX + 16} ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(p.yLabel)}</text>`,
  );
  for (const l of p.lines) {
    const color = colorOf(l.color);
    const good = l.points.filter((q) => q.y > 0 && Number.isFinite(q.y)).sort((a, b) => a.x - b.x);
    if (good.length === 0) continue;
    const d = good.map((q) => `${sx(q.x).toFixed(1)},${sy(q.y).toFixed(1)}`).join(' ');
    out.push(
      `<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2"${l.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    for (const q of good) {
      out.push(`<circle cx="${sx(q.x).toFixed(1)}" cy="${sy(q.y).toFixed(1)}" r="3" fill="${color}"/>`);
    }
  }
  p.lines.forEach((l, i) => {
    const color = colorOf(l.color);
    const y = H + 8 + i * LEGEND_ROW;
    const x = offsetX + M.left;
    out.push(
      `<line x1="${x}" y1="${y}" x2="${x + 28}" y2="${y}" stroke="${color}" stroke-width="2"${l.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${x + 34}" y="${y}" dominant-baseline="middle">${escapeXml(l.label)}</text>`,
    );
  });
  return out.join('\n');
}

/** Panels side by side in one SVG document, legends under each panel. */
export function renderChart(panels: readonly Panel[], caption?: string): string {
  const legendRows = Math.max(0, ...panels.map((p) => p.lines.length));
  const width = W * panels.length;
  const height = H + 12 + legendRows * LEGEND_ROW + (caption ? 20 : 0);
  const body = panels.map((p, i) => renderPanel(p, i * W)).join('\n');
  const cap = caption ? `\n<text x="8" y="${height - 6}" fill="#555">${escapeXml(caption)}</text>` : '';
  // The title is the chart's text alternative (screen readers, and the file's name in a browser tab).
  const title = [panels.map((p) => p.title).join('; '), caption].filter(Boolean).join(' — ');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `${body}${cap}`,
    '</svg>',
    '',
  ].join('\n');
}
