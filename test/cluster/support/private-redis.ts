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
  stop(): Promise<void>;
}

export function redisServerAvailable(): Promise<boolean> {
  return import('node:child_process').then(
    ({ execFile }) =>
      new Promise((resolve) => execFile('redis-server', ['--version'], (err) => resolve(!err))),
  );
}

/** Sends one RESP command to 127.0.0.1:port and resolves with the first reply chunk. */
export function redisCommand(port: number, args: string[], timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis ${args[0]} timed out`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('data', (d) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(d.toString('utf8'));
    });
    const parts = args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
    socket.write(`*${args.length}\r\n${parts}`);
  });
}

export async function startPrivateRedis(logDir: string): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'im-redis-'));
  const logFile = join(logDir, `redis-${port}.log`);
  const server: Spawned = spawnLogged(
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
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    logFile,
    command: (...args) => redisCommand(port, args),
    async stop() {
      await stopProcess(server, 5_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
