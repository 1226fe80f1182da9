/**
 * `pnpm bench:cluster`: the cluster under one-to-one load with every process's CPU counted.
 * Starts the cluster with the tests' launcher (scripts/cluster/launch.ts), from this checkout or
 * from each `--root` in turn, or attaches to a running one (`--attach`); senders on edge 1,
 * recipients on edge 2, so every delivery crosses Kafka. Per offered rate: delivered/s,
 * send→ack and send→push p50/p99, and CPU µs per delivered message of edge-1, edge-2, message,
 * presence, storage, admin, PostgreSQL (with its backends), Redis and Kafka, their total, and the
 * generator apart. Progress on stderr; tables on stdout; --json and --svg write the figures.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Cluster, startCluster } from '../../scripts/cluster/launch.js';
import { backendPorts, backendTargets } from './backends.js';
import { BENCH_EDGE_ENV, backendEnv } from './cluster-env.js';
import type { CpuTarget } from './cpu-meter.js';
import { CLUSTER_BENCH_USAGE, parseClusterBenchArgs, type Root } from './pair-args.js';
import { exitWith, log, parseOrUsage, runPairBench, type System } from './pair-bench.js';
import { pidListeningOn } from './proc-stat.js';
import { REPO_ROOT } from './server-process.js';
import { runTag } from './session.js';

const HOST = '127.0.0.1';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const opts = parseOrUsage(argv, CLUSTER_BENCH_USAGE, () =>
    parseClusterBenchArgs(argv, process.env, REPO_ROOT, process.cwd()),
  );
  if (typeof opts === 'number') return opts;
  const backends = backendTargets(backendPorts(process.env));
  for (const n of backends.notes) log(`note: ${n}`);
  const { secret: _omit, ...shownOptions } = opts;
  await runPairBench({
    name: 'cluster',
    placement: '(senders on edge 1, recipients on edge 2)',
    opts,
    shownOptions,
    systems:
      opts.attach !== undefined
        ? [() => attach(opts.attach as number, opts.secret, backends.targets)]
        : opts.roots.map((root) => () => launch(root, backends.targets)),
  });
  return 0;
}

/** Starts the cluster of one checkout (its own node_modules installed first when missing). */
async function launch(root: Root, backendTargetsOfMachine: CpuTarget[]): Promise<System> {
  const backends = backendEnv(process.env);
  if (!existsSync(join(root.dir, 'services/edge/src/main.ts'))) {
    throw new Error(`--root ${root.label}=${root.dir}: no services/edge/src/main.ts there`);
  }
  if (!existsSync(join(root.dir, 'node_modules'))) {
    log(`${root.label}: pnpm install --frozen-lockfile in ${root.dir}`);
    execFileSync('pnpm', ['install', '--frozen-lockfile'], { cwd: root.dir, stdio: ['ignore', 2, 2] });
  }
  const prefix = `bench_${randomBytes(3).toString('hex')}`;
  log(`${root.label}: starting the cluster from ${root.dir} (prefix ${prefix}) ...`);
  const started = performance.now();
  const cluster: Cluster = await startCluster({
    root: root.dir,
    edges: 2,
    prefix,
    env: { ...backends, LOG_LEVEL: 'warn', ...root.env },
    serviceEnv: { edge: { ...BENCH_EDGE_ENV } },
  });
  log(`${cluster.describe()}\nready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const [e1, e2] = cluster.edges;
  if (!e1 || !e2) throw new Error('the cluster has fewer than 2 edges');
  const node = (name: string, pid: number | undefined): CpuTarget[] =>
    pid === undefined ? [] : [{ name, pids: [pid], tree: true }];
  return {
    label: root.label,
    driver: { kind: 'im', secret: cluster.jwtSecret, tag: runTag() },
    describe: `${root.dir} at ${commitOf(root.dir)}${envText(root.env)}`,
    senderAt: { host: e1.host, port: e1.port },
    recipientAt: { host: e2.host, port: e2.port },
    targets: [
      ...node('edge-1', e1.proc.pid),
      ...node('edge-2', e2.proc.pid),
      ...node('message', cluster.message.proc.pid),
      ...node('presence', cluster.presence.proc.pid),
      ...node('storage', cluster.storage.proc.pid),
      ...node('admin', cluster.admin?.proc.pid),
      ...backendTargetsOfMachine,
    ],
    stop: () => cluster.stop(),
  };
}

/** A running cluster with scripts/cluster.sh's layout (launch.ts header); pids by listening port. */
async function attach(base: number, secret: string, backendTargetsOfMachine: CpuTarget[]): Promise<System> {
  const byPort = (name: string, port: number): CpuTarget[] => {
    const pid = pidListeningOn(port);
    if (pid === undefined) {
      log(`note: nothing listens on ${port} (${name}); its CPU is not counted`);
      return [];
    }
    return [{ name, pids: [pid], tree: true }];
  };
  return {
    label: `attached:${base}`,
    senderAt: { host: HOST, port: base + 1 },
    recipientAt: { host: HOST, port: base + 2 },
    targets: [
      ...byPort('edge-1', base + 1),
      ...byPort('edge-2', base + 2),
      ...byPort('message', base + 101),
      ...byPort('presence', base + 102),
      ...byPort('storage', base + 103),
      ...byPort('admin', base + 80),
      ...backendTargetsOfMachine,
    ],
    driver: { kind: 'im', secret, tag: runTag() },
    describe: `running cluster at base port ${base}`,
    stop: async () => {},
  };
}

function envText(env: Record<string, string> | undefined): string {
  const set = Object.entries(env ?? {});
  return set.length === 0 ? '' : ` with ${set.map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

/** The commit a checkout is at, `+` when its tree has changes (for the JSON). */
function commitOf(dir: string): string {
  try {
    const head = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['-C', dir, 'status', '--porcelain', '--', 'packages', 'services'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head}+` : head;
  } catch {
    return 'unknown';
  }
}

exitWith('bench:cluster', main());
