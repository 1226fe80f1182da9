/**
 * The embedded server as a CHILD PROCESS (services/embedded/src/main.ts, as `pnpm start` runs it),
 * for tests that kill it, trace its system calls, or read what it prints when it cannot start.
 * Port 0 on loopback; the port is read from its "listening" log line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signDevToken } from '../../packages/core/src/index.js';
import type { Identity } from './im.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = join(REPO_ROOT, 'services/embedded/src/main.ts');

export interface EmbeddedProcess {
  child: ChildProcess;
  /** stdout and stderr lines so far. */
  lines: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the edge port once listening; rejects with the output if it exits first. */
  listening: Promise<number>;
  identity(userId: string, deviceId?: string): Promise<Identity>;
  /** kill -9, then waits for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM (drain and close), then waits for the exit. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  dataDir: string;
  secret?: string;
  /** A command the server runs under (e.g. strace and its arguments). */
  wrapper?: string[];
  env?: Record<string, string>;
}

export function spawnEmbedded(opts: SpawnOptions): EmbeddedProcess {
  const secret = opts.secret ?? randomBytes(16).toString('hex');
  const argv = [process.execPath, '--import', 'tsx', MAIN];
  const [cmd, ...args] = [...(opts.wrapper ?? []), ...argv] as [string, ...string[]];
  const child = spawn(cmd, args, {
    cwd: REPO_ROOT,
    // Its own process group, so a signal reaches the server under a wrapper too.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      IM_DATA_DIR: opts.dataDir,
      IM_JWT_SECRET: secret,
      IM_EDGE_HOST: '127.0.0.1',
      IM_EDGE_PORT: '0',
      IM_ADMIN_HOST: '127.0.0.1',
      IM_ADMIN_PORT: '0',
      IM_ADMIN_SECRET: randomBytes(16).toString('hex'),
      LOG_LEVEL: 'info',
      ...opts.env,
    },
  });
  const lines: string[] = [];
  let onLine: (line: string) => void = () => {};
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buf += chunk;
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        onLine(line);
      }
    });
  }
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    child.once('close', (code, signal) => ok({ code, signal })),
  );
  const listening = new Promise<number>((ok, fail) => {
    onLine = (line) => {
      if (!line.includes('embedded IM server listening')) return;
      ok((JSON.parse(line) as { port: number }).port);
    };
    void exit.then(({ code, signal }) =>
      fail(
        new Error(`the embedded server exited (${code ?? signal}) before listening:\n${lines.join('\n')}`),
      ),
    );
  });
  listening.catch(() => {}); // a test that expects the exit awaits `exit` instead
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), sig);
    await exit;
  };
  return {
    child,
    lines,
    exit,
    listening,
    identity: async (userId, deviceId = 'd1') => ({
      userId,
      deviceId,
      token: await signDevToken(secret, userId, 3600),
    }),
    kill9: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
  };
}
