/**
 * A Redis server of one test file (`redis-server --port X --save ''`), for scenarios that wipe it
 * (FLUSHALL) or stop it: the shared test Redis (REDIS_URL) serves other files at the same time, and
 * FLUSHALL there would wipe their keys too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type Spawned, spawnLogged, stopProcess, waitFor } from './proc.js';

export interface PrivateRedis {
  url: string;
  port: number;
  logFile: string;
  /** One command, answered as the raw RESP reply text (e.g. "+OK\r\n"). */
  command(...args: string[]): Promise<string>;
  /** Stops the server (SIGTERM; no persistence, so its data is gone). */
  stop(): Promise<void>;
  /** SIGKILL: gone at once, as in a crash (its data with it). */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: frozen, connections held open but unanswered. */
  pause(): void;
  resume(): void;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Stops it and deletes its directory. */
  destroy(): Promise<void>;
  /** Sends a signal to the running server (SIGSTOP / SIGCONT: a Redis that hangs, then answers). */
  signal(signal: NodeJS.Signals): void;
}

/** Throws the how-to when redis-server is not installed (a fault test must fail, never skip). */
export async function requireRedisServer(): Promise<void> {
  const { execFile } = await import('node:child_process');
  const ok = await new Promise((resolve) => execFile('redis-server', ['--version'], (err) => resolve(!err)));
  if (!ok)
    throw new Error('redis-server not found: bash test/infra/start.sh (or scripts/test.sh) installs it');
}

/**
 * Sends RESP commands on one connection to host:port and resolves with the reply text once there
 * is a line per command (enough for the simple replies used here: +PONG, +OK, :n).
 */
export function redisCommand(
  port: number,
  args: string[] | string[][],
  { host = '127.0.0.1', timeoutMs = 3_000 } = {},
): Promise<string> {
  const commands = (Array.isArray(args[0]) ? args : [args]) as string[][];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis ${commands.map((c) => c[0]).join(', ')} timed out`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (d) => {
      text += d.toString('utf8');
      if (text.split('\r\n').length - 1 < commands.length) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    });
    for (const c of commands) {
      socket.write(`*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    }
  });
}

export async function startPrivateRedis(logDir: string): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'im-redis-'));
  const logFile = join(logDir, `redis-${port}.log`);
  let server: Spawned | null = null;
  const start = async () => {
    server = spawnLogged(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir],
      { logFile },
    );
    await waitFor(
      `redis-server on ${port}`,
      async () => (await redisCommand(port, ['PING'])).startsWith('+PONG'),
      15_000,
      logFile,
    );
  };
  const stop = async () => {
    if (server) await stopProcess(server, 5_000);
    server = null;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    logFile,
    command: (...args) => redisCommand(port, args),
    stop,
    async kill() {
      const s = server as Spawned | null;
      if (!s) return;
      s.proc.kill('SIGKILL');
      await s.exited;
      server = null;
    },
    pause: () => (server as Spawned | null)?.proc.kill('SIGSTOP'),
    resume: () => (server as Spawned | null)?.proc.kill('SIGCONT'),
    start,
    signal(sig) {
      (server as Spawned | null)?.proc.kill(sig);
    },
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
