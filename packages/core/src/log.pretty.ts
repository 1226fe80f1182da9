/**
 * Human-readable log lines for a terminal (LOG_FORMAT=pretty, or `auto` on a TTY): pino still
 * builds and redacts the JSON record; this only reformats it, one line per record:
 *   12:03:04.567 INFO  edge: logged in  userId=alice deviceId=d1 epoch=3
 * with an error's stack indented below. No dependency and no worker thread (pino-pretty's
 * transport): the services log little enough that formatting inline costs nothing measurable.
 */
import type { DestinationStream } from 'pino';

const LEVELS: Record<number, { label: string; color: string }> = {
  10: { label: 'TRACE', color: '\x1b[90m' },
  20: { label: 'DEBUG', color: '\x1b[34m' },
  30: { label: 'INFO', color: '\x1b[32m' },
  40: { label: 'WARN', color: '\x1b[33m' },
  50: { label: 'ERROR', color: '\x1b[31m' },
  60: { label: 'FATAL', color: '\x1b[41m\x1b[37m' },
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

/** pino's own fields, shown in the line's head rather than as key=value. */
const HEAD_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v', 'err']);

function clock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function valueText(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** One JSON record of pino → one readable line (plus an error's stack), ending in a newline. */
export function prettyLine(json: string, color: boolean): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = LEVELS[rec.level as number] ?? { label: String(rec.level), color: '' };
  const paint = (code: string, s: string) => (color && code ? `${code}${s}${RESET}` : s);
  const time = typeof rec.time === 'number' ? clock(rec.time) : '';
  const name = rec.name === undefined ? '' : `${String(rec.name)}: `;
  const fields = Object.entries(rec)
    .filter(([k]) => !HEAD_FIELDS.has(k))
    .map(([k, v]) => `${k}=${valueText(v)}`);
  const err = rec.err as { type?: string; message?: string; stack?: string } | undefined;
  if (err && !err.stack) fields.push(`err=${valueText(err.message ?? err)}`);
  const tail = fields.length > 0 ? `  ${paint(DIM, fields.join(' '))}` : '';
  let line = `${paint(DIM, time)} ${paint(level.color, level.label.padEnd(5))} ${name}${String(rec.msg ?? '')}${tail}\n`;
  if (err?.stack) line += `${err.stack.replace(/^/gm, '    ')}\n`;
  return line;
}

/** A pino destination writing pretty lines to `out` (colors when `color`). */
export function prettyDestination(out: { write(s: string): unknown }, color: boolean): DestinationStream {
  return { write: (json: string) => void out.write(prettyLine(json, color)) };
}
