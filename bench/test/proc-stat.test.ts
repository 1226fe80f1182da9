import { describe, expect, it } from 'vitest';
import { cpuWindow, perMessage } from '../src/cpu-meter.js';
import { descendants, listeningInodes, type ProcStat, parseStat } from '../src/proc-stat.js';

// Captured from /proc/<pid>/stat; the comm of the second holds spaces and a parenthesis.
const NODE_STAT =
  '4242 (node) S 4000 4242 4000 0 -1 4194560 51234 0 12 0 1234 567 89 10 20 0 11 0 9876 1185804288 41000 18446744073709551615 1 1 0 0 0 0 0 16781312 17922 0 0 0 17 1 0 0 0 0 0';
const ODD_COMM =
  '77 (postgres: im im 127.0.0.1(5) idle) S 70 70 70 0 -1 4194624 900 0 0 0 30 12 4 6 20 0 1 0 5000 220000000 3000 18446744073709551615 1 1 0 0 0 0 0 4096 16387 0 0 0 17 0 0 0 0 0 0';

describe('parseStat', () => {
  it('reads ppid and the four CPU times', () => {
    expect(parseStat(NODE_STAT)).toEqual({
      pid: 4242,
      comm: 'node',
      ppid: 4000,
      utime: 1234,
      stime: 567,
      cutime: 89,
      cstime: 10,
    });
  });

  it('counts fields from the last parenthesis, so any comm is safe', () => {
    const s = parseStat(ODD_COMM);
    expect(s.comm).toBe('postgres: im im 127.0.0.1(5) idle');
    expect([s.pid, s.ppid, s.utime, s.stime, s.cutime, s.cstime]).toEqual([77, 70, 30, 12, 4, 6]);
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseStat('hello')).toThrow(/not a \/proc/);
    expect(() => parseStat('1 (x) S')).toThrow(/field 4/);
  });
});

describe('descendants', () => {
  const stat = (pid: number, ppid: number): ProcStat => ({
    pid,
    ppid,
    comm: 'p',
    utime: 0,
    stime: 0,
    cutime: 0,
    cstime: 0,
  });
  it('walks children and grandchildren, not siblings', () => {
    const all = [stat(1, 0), stat(10, 1), stat(11, 10), stat(12, 10), stat(13, 11), stat(20, 1)];
    expect(descendants(10, all).sort((a, b) => a - b)).toEqual([11, 12, 13]);
    expect(descendants(13, all)).toEqual([]);
  });
});

describe('listeningInodes', () => {
  // /proc/net/tcp: 0A = LISTEN, 01 = ESTABLISHED; port 0x8AE2 = 35554, 0x1F90 = 8080.
  const TCP = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:8AE2 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0',
    '   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0 100 0 0 10 0',
    '   2: 0100007F:8AE2 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0 20 4 30 10 -1',
  ].join('\n');
  it('finds the listening socket of a port, not its connections', () => {
    expect(listeningInodes(TCP, 35554)).toEqual([111]);
    expect(listeningInodes(TCP, 8080)).toEqual([222]);
    expect(listeningInodes(TCP, 9)).toEqual([]);
  });
  it('reads IPv6 addresses too', () => {
    const tcp6 = [
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0000000000000000FFFF00000100007F:9A44 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 444 1 0 100 0 0 10 0',
    ].join('\n');
    expect(listeningInodes(tcp6, 0x9a44)).toEqual([444]);
  });
});

describe('CPU per delivered message', () => {
  const targets = [
    { name: 'edge', pids: [1], tree: false },
    { name: 'db', pids: [2], tree: true },
    { name: 'generator', pids: [3], tree: false, apart: true },
  ];
  it('divides each CPU rate by the delivered rate and leaves the generator out of the total', () => {
    const w = cpuWindow(
      { atMs: 1_000, us: { edge: 1_000_000, db: 500_000, generator: 0 } },
      { atMs: 3_000, us: { edge: 1_400_000, db: 700_000, generator: 100_000 } },
    );
    expect(w).toEqual({ seconds: 2, us: { edge: 400_000, db: 200_000, generator: 100_000 } });
    // 1,000 delivered/s: edge 200,000 µs/s → 200 µs/msg, db 100, generator 50 (apart).
    const cpu = perMessage(targets, w, 1_000);
    expect(cpu.perMessage).toEqual({ edge: 200, db: 100, generator: 50 });
    expect(cpu.total).toBe(300);
    expect(cpu.cores).toEqual({ edge: 0.2, db: 0.1, generator: 0.05 });
  });
  it('leaves out a process missing at either end of the window', () => {
    const w = cpuWindow({ atMs: 0, us: { edge: 5 } }, { atMs: 1_000, us: { edge: 7, db: 9 } });
    expect(w.us).toEqual({ edge: 2 });
    expect(perMessage(targets, w, 0).perMessage.edge).toBeNaN();
  });
});
