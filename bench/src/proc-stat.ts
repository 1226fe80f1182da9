/**
 * Linux /proc readers for the CPU accounting of the benchmarks: a process's CPU time from
 * /proc/<pid>/stat, the processes under a root (PostgreSQL's postmaster and its connection
 * backends), and which process listens on a TCP port (/proc/net/tcp{,6} → socket inode →
 * /proc/<pid>/fd). The parsers are pure so they can be tested on captured text.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** Clock ticks in user and kernel mode, this process (all its threads). */
  utime: number;
  stime: number;
  /** Clock ticks of its children that exited and were waited for. */
  cutime: number;
  cstime: number;
}

/**
 * One line of /proc/<pid>/stat (proc(5)). comm is in parentheses and may itself hold spaces and
 * parentheses, so the fields are counted from the LAST ')'.
 */
export function parseStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${line.slice(0, 80)}`);
  const pid = Number(line.slice(0, open).trim());
  // After ')': state(3) ppid(4) pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  // utime(14) stime(15) cutime(16) cstime(17)
  const rest = line
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (n: number) => {
    const v = Number(rest[n - 3]);
    if (!Number.isFinite(v)) throw new Error(`/proc/${pid}/stat: field ${n} is not a number`);
    return v;
  };
  return {
    pid,
    comm: line.slice(open + 1, close),
    ppid: field(4),
    utime: field(14),
    stime: field(15),
    cutime: field(16),
    cstime: field(17),
  };
}

/** The stat of a live process, or undefined when it is gone. */
export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every process's stat (processes that vanish while reading are skipped). */
export function readAllStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** The pids under `root` (children, grandchildren, ...), from a snapshot of all stats. */
export function descendants(root: number, stats: readonly ProcStat[]): number[] {
  const kids = new Map<number, number[]>();
  for (const s of stats) {
    const list = kids.get(s.ppid);
    if (list) list.push(s.pid);
    else kids.set(s.ppid, [s.pid]);
  }
  const out: number[] = [];
  const todo = [...(kids.get(root) ?? [])];
  while (todo.length > 0) {
    const pid = todo.pop() as number;
    out.push(pid);
    todo.push(...(kids.get(pid) ?? []));
  }
  return out;
}

/**
 * CPU ticks of a process and, with `tree`, of everything under it. Each process counts its own
 * utime+stime plus cutime+cstime: a child that exits during a measured window is reaped by its
 * parent, and its whole CPU time moves into the parent's cutime/cstime, so the sum over the live
 * tree stays continuous when PostgreSQL backends come and go.
 */
export function cpuTicks(pid: number, tree: boolean, stats?: readonly ProcStat[]): number | undefined {
  const all = tree ? (stats ?? readAllStats()) : undefined;
  const byPid = all ? new Map(all.map((s) => [s.pid, s])) : undefined;
  const own = byPid ? byPid.get(pid) : readStat(pid);
  if (!own) return undefined;
  let ticks = own.utime + own.stime + own.cutime + own.cstime;
  if (all && byPid) {
    for (const d of descendants(pid, all)) {
      const s = byPid.get(d) as ProcStat;
      ticks += s.utime + s.stime + s.cutime + s.cstime;
    }
  }
  return ticks;
}

/**
 * VmRSS in bytes of a process and, with `tree`, of everything under it (Linux /proc; the kernel
 * reports kB); undefined when the process is gone.
 */
export function rssBytes(pid: number, tree: boolean, stats?: readonly ProcStat[]): number | undefined {
  const one = (p: number): number => {
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  };
  if (!readStat(pid)) return undefined;
  let bytes = one(pid);
  if (tree) for (const d of descendants(pid, stats ?? readAllStats())) bytes += one(d);
  return bytes;
}

let ticksPerSecond: number | undefined;
/** sysconf(_SC_CLK_TCK): the unit of the stat times (100 on Linux almost everywhere). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      ticksPerSecond = Number.isInteger(n) && n > 0 ? n : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** TCP state 0A = LISTEN (include/net/tcp_states.h). */
const TCP_LISTEN = '0A';

/**
 * The socket inodes listening on `port`, from the text of /proc/net/tcp or /proc/net/tcp6
 * (columns: sl local_address rem_address st ... uid timeout inode; addresses are HEX_IP:HEX_PORT).
 */
export function listeningInodes(procNetTcp: string, port: number): number[] {
  const out: number[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const local = cols[1] as string;
    const hexPort = local.slice(local.lastIndexOf(':') + 1);
    if (cols[3] === TCP_LISTEN && Number.parseInt(hexPort, 16) === port) out.push(Number(cols[9]));
  }
  return out;
}

/** The pid of the process that listens on TCP `port` (any address), or undefined. */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const i of listeningInodes(readFileSync(file, 'utf8'), port)) inodes.add(i);
    } catch {
      // no IPv6 on this kernel
    }
  }
  if (inodes.size === 0) return undefined;
  const wanted = new Set([...inodes].map((i) => `socket:[${i}]`));
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${name}/fd/${fd}`))) return Number(name);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}
