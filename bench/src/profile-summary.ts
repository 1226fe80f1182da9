/**
 * Summarizes a V8 CPU profile (`node --cpu-prof` output, *.cpuprofile): the top functions by SELF
 * time, and self time grouped by where the code lives (our packages, a dependency, node internals,
 * GC, idle), which is what says "where the time goes".
 *   pnpm exec tsx bench/src/profile-summary.ts <file.cpuprofile|dir> [--top 25]
 * A directory means: its newest .cpuprofile.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Sampled time not idle, in ms: what the process actually spent on CPU (JS, GC, native). */
  busyMs: number;
  functions: SelfTime[];
  groups: { group: string; ms: number; share: number }[];
}

/** Where a frame's code lives: a workspace package, a node_modules package, node:internal, or a V8 pseudo-frame. */
export function groupOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return '(garbage collector)';
    if (functionName === '(program)') return '(program: native, outside JS)';
    return `(native) ${functionName || 'anonymous'}`;
  }
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/').slice(0, 2).join('/')}`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    const pkg = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    if (pkg === '.pnpm') {
      // .pnpm/<name@ver>/node_modules/<name>/...: the inner node_modules was handled above.
      return `dep: ${rest[1] ?? '?'}`;
    }
    return `dep: ${pkg}`;
  }
  const ws = /\/(packages|services|bench)\/([^/]+)\//.exec(url);
  if (ws) return `${ws[1]}/${ws[2]}`;
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const ws = /\/((?:packages|services|bench)\/.*)$/.exec(url);
  return ws ? (ws[1] as string) : url.replace(/^file:\/\//, '');
}

export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    // timeDeltas[i] is the time since the previous sample: attribute it to this sample's node.
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const fns = new Map<string, { name: string; where: string; us: number }>();
  const groups = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const group = groupOf(frame);
    if (group === '(idle)') idleUs += us;
    groups.set(group, (groups.get(group) ?? 0) + us);
    const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}\u0000${where}`;
    const entry = fns.get(key) ?? { name: frame.functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    fns.set(key, entry);
  }
  const busyUs = totalUs - idleUs;
  const share = (us: number) => (busyUs > 0 ? Math.round((us / busyUs) * 1000) / 10 : 0);
  return {
    totalMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    functions: [...fns.values()]
      .filter((f) => f.name !== '(idle)')
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, ms: Math.round(f.us / 1000), share: share(f.us) })),
    groups: [...groups.entries()]
      .filter(([g]) => g !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .map(([group, us]) => ({ group, ms: Math.round(us / 1000), share: share(us) })),
  };
}

export function formatProfileSummary(s: ProfileSummary): string {
  const lines = [
    `profiled ${(s.totalMs / 1000).toFixed(1)} s, busy (not idle) ${(s.busyMs / 1000).toFixed(1)} s; shares are of busy time`,
    '',
    '| self ms | share | where the code lives |',
    '|---:|---:|---|',
    ...s.groups.slice(0, 15).map((g) => `| ${g.ms} | ${g.share}% | ${g.group} |`),
    '',
    '| self ms | share | function | location |',
    '|---:|---:|---|---|',
    ...s.functions.map((f) => `| ${f.ms} | ${f.share}% | ${f.name} | ${f.where} |`),
  ];
  return lines.join('\n');
}

function newestProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  return files[0] as string;
}

function main(): void {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  const path = args.find((a, i) => !a.startsWith('--') && i !== topAt + 1);
  if (!path) {
    process.stderr.write('usage: profile-summary.ts <file.cpuprofile|dir> [--top N]\n');
    process.exit(2);
  }
  const file = statSync(path).isDirectory() ? newestProfile(path) : path;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(`${file}\n${formatProfileSummary(summarizeProfile(profile, top))}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
