/**
 * Idle connection cost: how much edge RSS one logged-in, idle connection costs.
 *   pnpm bench:idle [--connections 19000] [--workers 4]
 * Starts the embedded server as a child process (so its pid is known and it can be asked to GC),
 * samples VmRSS (/proc/<pid>/status) after a GC, opens N logged-in connections from W client
 * processes, waits, GCs, samples again, and prints (after - before) / N.
 * Against an edge you started: --target host:port --pid <edge pid> --secret S (no forced GC then).
 * With --cluster: the cluster's edges instead (idle-cluster.ts).
 */
import { writeFileSync } from 'node:fs';
import { IDLE_USAGE, type IdleOptions, parseIdleArgs, UsageError } from './args.js';
import { openIdleClients, sampleMedian } from './idle-clients.js';
import { runIdleCluster } from './idle-cluster.js';
import { describeMachine, machineInfo } from './machine.js';
import {
  type MemorySample,
  readRssBytes,
  type ServerProcess,
  sleep,
  startServerProcess,
} from './server-process.js';
import { openMany, runTag } from './session.js';

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
  if (opts.cluster) return runIdleCluster(opts);
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

  let closeClients = async () => {};
  try {
    // Warm the code paths (LOGIN, routes) with one connection, so the baseline is not pre-JIT.
    const tag = runTag();
    const warm = await openMany({ targets, secret, tag: `${tag}w`, from: 0, count: 1, concurrency: 1 });
    for (const u of warm) u.conn.close();
    await sleep(opts.settleS * 1000);
    const before = await sampleMedian(sampler.sample);
    log(
      `before: edge RSS ${mib(before.rss)}${'heapUsed' in before ? `, heap used ${mib(before.heapUsed)}` : ''}`,
    );

    const clients = await openIdleClients({
      targets,
      secret,
      tag,
      connections: opts.connections,
      workers: opts.workers,
      concurrency: opts.connectConcurrency,
      onProgress: (n, s) =>
        log(
          `connecting: ${n}/${opts.connections} logged in (${s.toFixed(0)} s, ${Math.round(n / s)}/s), edge RSS ${mib(readRssBytes(sampler.pid))}`,
        ),
    });
    closeClients = clients.close;
    const connectS = clients.connectS;
    log(
      `${opts.connections} connections logged in from ${clients.workers} client processes in ${connectS.toFixed(1)} s`,
    );

    await sleep(opts.settleS * 1000);
    const after = await sampleMedian(sampler.sample);
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
      `| ${opts.connections} | ${clients.workers} | ${mib(before.rss)} | ${mib(after.rss)} | ${Math.round(perConn).toLocaleString('en-US')} B | ${heapPerConn === undefined ? '-' : `${Math.round(heapPerConn).toLocaleString('en-US')} B`} |`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (opts.json) {
      writeFileSync(
        opts.json,
        `${JSON.stringify(
          {
            machine,
            connections: opts.connections,
            workers: clients.workers,
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
    await closeClients();
    await server?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`idle bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
