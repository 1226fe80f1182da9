/**
 * The client side of the idle benches: N logged-in connections opened from W processes
 * (idle-worker.ts), because each socket is a file descriptor on this side too and one process may
 * hold at most the file limit (20,000 here). Users go round-robin over the targets.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Endpoint } from './args.js';
import type { IdleWorkerMessage, IdleWorkerTask } from './idle-worker.js';
import { REPO_ROOT, sleep } from './server-process.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'idle-worker.ts');

export interface IdleClientsOptions {
  targets: Endpoint[];
  secret: string;
  tag: string;
  connections: number;
  workers: number;
  /** Logins in flight at once, over all processes. */
  concurrency: number;
  /** Called every second while connecting, with the number logged in so far. */
  onProgress(opened: number, seconds: number): void;
}

export interface IdleClients {
  /** Processes used. */
  workers: number;
  /** Seconds from the first connect to the last LOGIN answered. */
  connectS: number;
  /** Closes every connection and ends the processes. */
  close(): Promise<void>;
}

export async function openIdleClients(o: IdleClientsOptions): Promise<IdleClients> {
  const workers: ChildProcess[] = [];
  const close = () =>
    Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((ok) => {
            if (w.exitCode !== null || w.signalCode !== null) return ok();
            w.once('exit', () => ok());
            w.send({ type: 'close' });
            setTimeout(() => w.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    ).then(() => {});
  const started = Date.now();
  const per = Math.ceil(o.connections / o.workers);
  const opened = new Array<number>(o.workers).fill(0);
  const ready: Promise<void>[] = [];
  for (let w = 0; w < o.workers; w++) {
    const from = w * per;
    const count = Math.min(per, o.connections - from);
    if (count <= 0) break;
    const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], cwd: REPO_ROOT });
    workers.push(child);
    ready.push(
      new Promise((ok, fail) => {
        child.on('message', (m: IdleWorkerMessage) => {
          if (m.type === 'progress') opened[w] = m.opened;
          else if (m.type === 'ready') {
            opened[w] = m.opened;
            ok();
          } else fail(new Error(`client process ${w}: ${m.error}`));
        });
        child.once('exit', (code) => fail(new Error(`client process ${w} exited with ${code}`)));
      }),
    );
    const task: IdleWorkerTask = {
      targets: o.targets,
      secret: o.secret,
      tag: o.tag,
      from,
      count,
      concurrency: Math.max(1, Math.floor(o.concurrency / o.workers)),
    };
    child.send(task);
  }
  const progress = setInterval(() => {
    o.onProgress(
      opened.reduce((a, b) => a + b, 0),
      (Date.now() - started) / 1000,
    );
  }, 1000);
  try {
    await Promise.all(ready);
  } catch (err) {
    await close();
    throw err;
  } finally {
    clearInterval(progress);
  }
  return { workers: workers.length, connectS: (Date.now() - started) / 1000, close };
}

/** RSS moves by a few MiB between GCs (allocator, JIT); the median of three samples 1 s apart is steadier. */
export async function sampleMedian<T extends { rss: number }>(sample: () => Promise<T>): Promise<T> {
  const samples: T[] = [];
  for (let i = 0; i < 3; i++) {
    if (i > 0) await sleep(1000);
    samples.push(await sample());
  }
  samples.sort((a, b) => a.rss - b.rss);
  return samples[1] as T;
}
