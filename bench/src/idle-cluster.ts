/**
 * `pnpm bench:idle --cluster`: logged-in idle connections spread over several edge processes of a
 * cluster started with the tests' launcher (scripts/cluster/launch.ts). The per-process file limit
 * (20,000 here) caps one edge and one client process, so both sides are several processes.
 * Reports each edge's RSS per connection (VmRSS after a forced GC, before and after the logins)
 * and the login rate.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startCluster } from '../../scripts/cluster/launch.js';
import type { Endpoint, IdleOptions } from './args.js';
import { BENCH_EDGE_ENV, backendEnv } from './cluster-env.js';
import { openIdleClients, sampleMedian } from './idle-clients.js';
import { describeMachine, machineInfo } from './machine.js';
import {
  GC_PRELOAD,
  gcAndSample,
  type MemorySample,
  REPO_ROOT,
  readRssBytes,
  sleep,
} from './server-process.js';
import { openMany, runTag } from './session.js';

/**
 * The idle clients PING at half the heartbeat (protocol.md §6 Heartbeat). At the default 30 s,
 * 100,000 connections would send ~6,700 PINGs/s, a load test of its own; the bench measures
 * memory, so the edges announce a longer period.
 */
const IDLE_HEARTBEAT_SECONDS = '300';

const log = (line: string) => process.stderr.write(`${line}\n`);
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;

export interface EdgeMemory {
  name: string;
  pid: number;
  connections: number;
  before: MemorySample;
  after: MemorySample;
}

/** Users go round-robin over the edges (session.ts openMany): how many land on edge `e` of `edges`. */
export function connectionsOn(e: number, edges: number, total: number): number {
  return e >= total ? 0 : Math.floor((total - 1 - e) / edges) + 1;
}

/** The report table: one row per edge and a total row; bytes per connection as (after − before) / n. */
export function formatIdleTable(rows: readonly EdgeMemory[], loginsPerS: number): string {
  const kib = (b: number) => `${(b / 1024).toFixed(2)} KiB`;
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const out = [
    line(['edge', 'connections', 'RSS before', 'RSS after', 'RSS per connection', 'V8 heap per connection']),
    '|---|---:|---:|---:|---:|---:|',
  ];
  let n = 0;
  let rss = 0;
  let heap = 0;
  for (const r of rows) {
    const dRss = r.after.rss - r.before.rss;
    const dHeap = r.after.heapUsed - r.before.heapUsed;
    n += r.connections;
    rss += dRss;
    heap += dHeap;
    out.push(
      line([
        r.name,
        r.connections.toLocaleString('en-US'),
        mib(r.before.rss),
        mib(r.after.rss),
        r.connections ? kib(dRss / r.connections) : '-',
        r.connections ? kib(dHeap / r.connections) : '-',
      ]),
    );
  }
  out.push(
    line([
      `all (${rows.length} edges)`,
      n.toLocaleString('en-US'),
      mib(rows.reduce((a, r) => a + r.before.rss, 0)),
      mib(rows.reduce((a, r) => a + r.after.rss, 0)),
      n ? kib(rss / n) : '-',
      n ? kib(heap / n) : '-',
    ]),
  );
  return `${out.join('\n')}\n\nlogins: ${Math.round(loginsPerS).toLocaleString('en-US')}/s over the whole connect phase`;
}

export async function runIdleCluster(opts: IdleOptions): Promise<number> {
  const machine = machineInfo();
  log(`machine: ${describeMachine(machine)}`);
  // The edges' memory files live in this checkout's bench/results (git-ignored), not in the shared
  // temp directory, where another user's clean-up could remove them under the running edges.
  const resultsDir = join(REPO_ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const dir = mkdtempSync(join(resultsDir, '.idle-'));
  const memFile = (pid: number) => join(dir, `mem-${pid}.json`);
  log(`starting the cluster with ${opts.edges} edges ...`);
  const cluster = await startCluster({
    edges: opts.edges,
    prefix: `idle_${randomBytes(3).toString('hex')}`,
    env: { ...backendEnv(process.env), LOG_LEVEL: 'warn' },
    serviceEnv: {
      edge: {
        ...BENCH_EDGE_ENV,
        IM_HEARTBEAT_SECONDS: IDLE_HEARTBEAT_SECONDS,
        // The bench's GC hook in every edge (gc-signal.ts); %p: one memory file per edge.
        NODE_OPTIONS: `--expose-gc --import ${pathToFileURL(GC_PRELOAD).href}`,
        BENCH_MEM_FILE: join(dir, 'mem-%p.json'),
      },
    },
  });
  let closeClients = async () => {};
  try {
    log(cluster.describe());
    const edges = cluster.edges.map((e) => ({ name: e.name, pid: e.proc.pid as number }));
    const targets: Endpoint[] = cluster.edges.map((e) => ({ host: e.host, port: e.port }));
    const sampleAll = () =>
      Promise.all(edges.map((e) => sampleMedian(() => gcAndSample(e.pid, memFile(e.pid)))));
    const totalRss = () => edges.reduce((a, e) => a + readRssBytes(e.pid), 0);

    // Warm the LOGIN path of every edge, so the baseline is not pre-JIT.
    const tag = runTag();
    const warm = await openMany({
      targets,
      secret: cluster.jwtSecret,
      tag: `${tag}w`,
      from: 0,
      count: targets.length,
      concurrency: targets.length,
    });
    for (const u of warm) u.conn.close();
    await sleep(opts.settleS * 1000);
    const before = await sampleAll();
    log(`before: edge RSS ${before.map((s) => mib(s.rss)).join(', ')}`);

    const clients = await openIdleClients({
      targets,
      secret: cluster.jwtSecret,
      tag,
      connections: opts.connections,
      workers: opts.workers,
      concurrency: opts.connectConcurrency,
      onProgress: (n, s) =>
        log(
          `connecting: ${n}/${opts.connections} logged in (${s.toFixed(0)} s, ${Math.round(n / s)}/s), edges' RSS ${mib(totalRss())}`,
        ),
    });
    closeClients = clients.close;
    const loginsPerS = opts.connections / clients.connectS;
    log(
      `${opts.connections} connections logged in over ${edges.length} edges from ${clients.workers} client processes in ${clients.connectS.toFixed(1)} s`,
    );
    await sleep(opts.settleS * 1000);
    const after = await sampleAll();
    const rows: EdgeMemory[] = edges.map((e, i) => ({
      ...e,
      connections: connectionsOn(i, edges.length, opts.connections),
      before: before[i] as MemorySample,
      after: after[i] as MemorySample,
    }));
    process.stdout.write(`${formatIdleTable(rows, loginsPerS)}\n`);
    if (opts.json) {
      const perConnection = (rows.reduce((a, r) => a + r.after.rss - r.before.rss, 0) / opts.connections) | 0;
      writeFileSync(
        opts.json,
        `${JSON.stringify(
          {
            machine,
            connections: opts.connections,
            edges: edges.length,
            clientProcesses: clients.workers,
            connectS: clients.connectS,
            loginsPerS,
            rssPerConnection: perConnection,
            rows,
          },
          null,
          2,
        )}\n`,
      );
      log(`figures written to ${opts.json}`);
    }
    return 0;
  } finally {
    await closeClients();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
