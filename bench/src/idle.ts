/**
 * Idle connection cost: how much edge RSS one logged-in, idle connection costs.
 *   pnpm bench:idle [--connections 19000] [--workers 4]
 * Starts the embedded server as a child process (so its pid is known and it can be asked to GC),
 * samples VmRSS (/proc/<pid>/status) after a GC, opens N logged-in connections from W client
 * processes, waits, GCs, samples again, and prints (after - before) / N.
 * Against an edge you started: --target host:port --pid <edge pid> --secret S (no forced GC then).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IDLE_USAGE, type IdleOptions, parseIdleArgs, UsageError } from './args.js';
import type { IdleWorkerMessage, IdleWorkerTask } from './idle-worker.js';
import { describeMachine, machineInfo } from './machine.js';
import {
  type MemorySample,
  REPO_ROOT,
  readRssBytes,
  type ServerProcess,
  sleep,
  startServerProcess,
} from './server-process.js';
import { openMany, runTag } from './session.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'idle-worker.ts');
const log = (line: string) => process.stderr.write(`${line}\n`);
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;

interface Sampler {
  pid: number;
  sample(): Promise<MemorySample | { rss: number }>;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    process.stdout.write(`${IDLE_USAGE}\n`);
    return 0;
  }
  let opts: IdleOptions;
  try {
    opts = parseIdleArgs(argv, process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${IDLE_USAGE}\n`);
      return 2;
    }
    throw err;
  }
  const machine = machineInfo();
  log(`machine: ${describeMachine(machine)}`);

  let server: ServerProcess | undefined;
  let targets = opts.targets;
  let secret = opts.secret;
  let sampler: Sampler;
  if (opts.embedded) {
    // Heartbeat at its default; the workers ping. The login deadline is irrelevant (logins are fast).
    server = await startServerProcess({ kind: opts.server });
    targets = [{ host: server.host, port: server.port }];
    secret = server.secret;
    const s = server;
    sampler = { pid: s.pid, sample: () => s.gcAndSample() };
    log(`${opts.server} server: pid ${s.pid} on ${s.host}:${s.port}`);
  } else {
    const pid = opts.pid as number;
    sampler = { pid, sample: async () => ({ rss: readRssBytes(pid) }) };
  }

  const workers: ChildProcess[] = [];
  try {
    // Warm the code paths (LOGIN, routes) with one connection, so the baseline is not pre-JIT.
    const tag = runTag();
    const warm = await openMany({ targets, secret, tag: `${tag}w`, from: 0, count: 1, concurrency: 1 });
    for (const u of warm) u.conn.close();
    await sleep(opts.settleS * 1000);
    const before = await sampleMedian(sampler);
    log(
      `before: edge RSS ${mib(before.rss)}${'heapUsed' in before ? `, heap used ${mib(before.heapUsed)}` : ''}`,
    );

    const started = Date.now();
    const perWorker = Math.ceil(opts.connections / opts.workers);
    const opened = new Array<number>(opts.workers).fill(0);
    const ready: Promise<void>[] = [];
    for (let w = 0; w < opts.workers; w++) {
      const from = w * perWorker;
      const count = Math.min(perWorker, opts.connections - from);
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
        targets,
        secret,
        tag,
        from,
        count,
        concurrency: Math.max(1, Math.floor(opts.connectConcurrency / opts.workers)),
      };
      child.send(task);
    }
    const progress = setInterval(() => {
      const n = opened.reduce((a, b) => a + b, 0);
      const s = (Date.now() - started) / 1000;
      log(
        `connecting: ${n}/${opts.connections} logged in (${s.toFixed(0)} s, ${Math.round(n / s)}/s), edge RSS ${mib(readRssBytes(sampler.pid))}`,
      );
    }, 1000);
    try {
      await Promise.all(ready);
    } finally {
      clearInterval(progress);
    }
    const connectS = (Date.now() - started) / 1000;
    log(
      `${opts.connections} connections logged in from ${workers.length} client processes in ${connectS.toFixed(1)} s`,
    );

    await sleep(opts.settleS * 1000);
    const after = await sampleMedian(sampler);
    log(
      `after: edge RSS ${mib(after.rss)}${'heapUsed' in after ? `, heap used ${mib(after.heapUsed)}` : ''}`,
    );

    const perConn = (after.rss - before.rss) / opts.connections;
    const heapPerConn =
      'heapUsed' in after && 'heapUsed' in before
        ? (after.heapUsed - before.heapUsed) / opts.connections
        : undefined;
    const lines = [
      '| connections | client processes | edge RSS before | edge RSS after | RSS per connection | V8 heap per connection |',
      '|---:|---:|---:|---:|---:|---:|',
      `| ${opts.connections} | ${workers.length} | ${mib(before.rss)} | ${mib(after.rss)} | ${Math.round(perConn).toLocaleString('en-US')} B | ${heapPerConn === undefined ? '-' : `${Math.round(heapPerConn).toLocaleString('en-US')} B`} |`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (opts.json) {
      writeFileSync(
        opts.json,
        `${JSON.stringify(
          {
            machine,
            connections: opts.connections,
            workers: workers.length,
            connectS,
            before,
            after,
            rssPerConnection: perConn,
            heapPerConnection: heapPerConn,
          },
          null,
          2,
        )}\n`,
      );
    }
    return 0;
  } finally {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((ok) => {
            if (w.exitCode !== null) return ok();
            w.once('exit', () => ok());
            w.send({ type: 'close' });
            setTimeout(() => w.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
    await server?.stop();
  }
}

/** RSS moves by a few MiB between GCs (allocator, JIT); the median of three samples 1 s apart is steadier. */
async function sampleMedian(sampler: Sampler): Promise<MemorySample | { rss: number }> {
  const samples: (MemorySample | { rss: number })[] = [];
  for (let i = 0; i < 3; i++) {
    if (i > 0) await sleep(1000);
    samples.push(await sampler.sample());
  }
  samples.sort((a, b) => a.rss - b.rss);
  return samples[1] as MemorySample | { rss: number };
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`idle bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
