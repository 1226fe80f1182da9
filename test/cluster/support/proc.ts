/**
 * Child processes of the cluster tests (a private Redis, PostgreSQL or Kafka): output to a log
 * file whose tail goes into failure messages, bounded waits, and a kill on the worker's exit so a
 * crashed test file leaves no server behind.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

export const execFileAsync = promisify(execFile);

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) if (p.exitCode === null) p.kill('SIGKILL');
});

export interface Spawned {
  proc: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
}

export function spawnLogged(
  cmd: string,
  args: string[],
  opts: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
): Spawned {
  const out = createWriteStream(opts.logFile, { flags: 'a' });
  const proc = spawn(cmd, args, {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.pipe(out, { end: false });
  proc.stderr?.pipe(out, { end: false });
  live.add(proc);
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      resolve(code ?? signal ?? 'unknown');
    });
    proc.once('error', (err) => {
      live.delete(proc);
      out.write(`spawn failed: ${err.message}\n`);
      resolve(`spawn error: ${err.message}`);
    });
  });
  exited.then(() => out.end());
  return { proc, logFile: opts.logFile, exited };
}

/** The last lines of a log file ('' when it does not exist). */
export async function tailFile(path: string, lines = 40): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls check until it returns true; throws with `what` (and the log tail) after timeoutMs. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  logFile?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      const tail = logFile ? `\n---- ${logFile} ----\n${await tailFile(logFile)}` : '';
      throw new Error(`${what} not ready after ${timeoutMs} ms${tail}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Sends SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
export async function stopProcess(s: Spawned, graceMs = 10_000): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  s.proc.kill('SIGTERM');
  const timer = setTimeout(() => s.proc.kill('SIGKILL'), graceMs);
  await s.exited;
  clearTimeout(timer);
}

/**
 * Sends a signal to a process and to its children (by their ids, from `pgrep -P`): SIGSTOP and
 * SIGCONT of a server that forks workers (PostgreSQL) must reach them all. No-op for a dead pid.
 */
export async function signalTree(pid: number, signal: NodeJS.Signals): Promise<void> {
  const children = await execFileAsync('pgrep', ['-P', String(pid)]).then(
    ({ stdout }) => stdout.split('\n').filter(Boolean).map(Number),
    () => [] as number[],
  );
  for (const p of [pid, ...children]) {
    try {
      process.kill(p, signal);
    } catch {
      // gone meanwhile
    }
  }
}
