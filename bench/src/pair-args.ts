/**
 * Command-line options of `pnpm bench:cluster` (cluster-bench.ts) and `pnpm bench:peers`
 * (peers-bench.ts). Pure, like args.ts: bad values throw UsageError naming the flag.
 */
import { isAbsolute, resolve } from 'node:path';
import { parseCount, Reader, splitFlags, UsageError } from './args.js';

/** The pair load shared by both benches. */
export interface PairOptions {
  rates: number[];
  pairs: number;
  workers: number;
  durationS: number;
  warmupS: number;
  drainS: number;
  /** Seconds of CPU sampling with the pairs open and no load, before the first rate (0: none). */
  idleS: number;
  bodyBytes: number;
  maxOutstanding: number;
  connectConcurrency: number;
  json?: string;
  svg?: string;
  quiet: boolean;
}

/** A checkout whose services the cluster bench launches, and its label in the tables. */
export interface Root {
  label: string;
  dir: string;
  /** Settings (config.ts env names) its services start with, over the bench's (`--env`). */
  env?: Record<string, string>;
}

export interface ClusterBenchOptions extends PairOptions {
  /** Checkouts to measure one after the other (default: this one, labelled `this`). */
  roots: Root[];
  /** Target the running cluster with the fixed port layout at this base port instead of starting one. */
  attach?: number;
  secret: string;
}

export type PeerServer = 'embedded' | 'memory' | 'aedes' | 'mosquitto';
/** What `--servers` runs by default. */
export const PEER_SERVERS: readonly PeerServer[] = ['embedded', 'aedes', 'mosquitto'];
/**
 * Every server `--servers` accepts: `memory` is the embedded composition with the bench-only
 * in-memory store (memory-server.ts), the edge and services without the database.
 */
export const ALL_PEER_SERVERS: readonly PeerServer[] = ['embedded', 'memory', 'aedes', 'mosquitto'];

export interface PeersBenchOptions extends PairOptions {
  servers: PeerServer[];
}

const BOOLEANS = new Set(['quiet', 'help']);

function pairOptions(r: Reader, defaultRates: string): PairOptions {
  const rates = (r.str('rate') ?? defaultRates).split(',').map((x) => parseCount('rate', x, { min: 1 }));
  const pairs = r.num('pairs', 200, { min: 1 });
  return {
    rates,
    pairs,
    workers: r.num('workers', 2, { min: 1 }),
    durationS: r.num('duration', 10, { min: 1, integer: false }),
    warmupS: r.num('warmup', 3, { integer: false }),
    drainS: r.num('drain', 15, { integer: false }),
    idleS: r.num('idle', 5, { integer: false }),
    // 12 bytes carry the send time and the run id (pair-worker.ts).
    bodyBytes: r.num('body-bytes', 64, { min: 12 }),
    maxOutstanding: r.num('max-outstanding', 16, { min: 1 }),
    connectConcurrency: r.num('connect-concurrency', 50, { min: 1 }),
    json: r.str('json'),
    svg: r.str('svg'),
    quiet: r.bool('quiet'),
  };
}

/** `LABEL=DIR[,LABEL=DIR...]`; a bare DIR is labelled by its last path segment. */
export function parseRoots(raw: string, cwd: string): Root[] {
  const roots = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const eq = s.indexOf('=');
      const dir = eq >= 0 ? s.slice(eq + 1) : s;
      if (!dir) throw new UsageError(`--root: "${s}" names no directory`);
      const abs = isAbsolute(dir) ? dir : resolve(cwd, dir);
      const label = eq >= 0 ? s.slice(0, eq) : (abs.split('/').filter(Boolean).pop() ?? abs);
      if (!/^[\w.-]+$/.test(label))
        throw new UsageError(`--root: label "${label}" must be letters, digits, . _ -`);
      return { label, dir: abs };
    });
  if (roots.length === 0) throw new UsageError('--root lists no directory');
  const labels = new Set(roots.map((r) => r.label));
  if (labels.size !== roots.length) throw new UsageError('--root: each checkout needs its own label');
  return roots;
}

/**
 * `--env NAME=VALUE[,LABEL:NAME=VALUE...]`: settings for every checkout's services, or (with a
 * label) for one — e.g. `--root a=.,b=. --env b:IM_GRPC_LINGER_MS=4` measures one setting against
 * another in one run.
 */
export function applyEnv(roots: Root[], raw: string): Root[] {
  const out = roots.map((r) => ({ ...r, env: { ...r.env } }));
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(?:([\w.-]+):)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(item);
    if (!m) throw new UsageError(`--env: "${item}" is not NAME=VALUE or LABEL:NAME=VALUE`);
    const [, label, name, value] = m as unknown as [string, string | undefined, string, string];
    const targets = label === undefined ? out : out.filter((r) => r.label === label);
    if (targets.length === 0) throw new UsageError(`--env: no --root labelled "${label}"`);
    for (const t of targets) t.env[name] = value;
  }
  return out;
}

export function parseClusterBenchArgs(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  repoRoot: string,
  cwd: string,
): ClusterBenchOptions {
  const r = new Reader(splitFlags(argv, BOOLEANS));
  const pair = pairOptions(r, '500,1k,3k,6k');
  const attachRaw = r.str('attach');
  const rootRaw = r.str('root');
  const envRaw = r.str('env');
  if (attachRaw !== undefined && rootRaw !== undefined) {
    throw new UsageError('--attach (a running cluster) and --root (checkouts to launch) exclude each other');
  }
  const attach = attachRaw === undefined ? undefined : parseCount('attach', attachRaw, { min: 1 });
  if (attach !== undefined && attach + 183 > 65535)
    throw new UsageError('--attach: the port layout passes 65535');
  const secret = r.str('secret') ?? env.IM_JWT_SECRET ?? '';
  if (attach !== undefined && !secret) {
    throw new UsageError("--attach needs the edges' JWT secret: --secret S or IM_JWT_SECRET");
  }
  if (attach !== undefined && envRaw !== undefined) {
    throw new UsageError(
      '--env sets what launched services start with; an attached cluster is already running',
    );
  }
  r.rejectUnknown();
  const roots = rootRaw === undefined ? [{ label: 'this', dir: repoRoot }] : parseRoots(rootRaw, cwd);
  return {
    ...pair,
    roots: envRaw === undefined ? roots : applyEnv(roots, envRaw),
    attach,
    secret,
  };
}

export function parsePeersBenchArgs(argv: readonly string[]): PeersBenchOptions {
  const r = new Reader(splitFlags(argv, BOOLEANS));
  const pair = pairOptions(r, '2k,5k,10k');
  const servers = (r.str('servers') ?? PEER_SERVERS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      if (!(ALL_PEER_SERVERS as readonly string[]).includes(s)) {
        throw new UsageError(`--servers: "${s}" is not one of ${ALL_PEER_SERVERS.join(', ')}`);
      }
      return s as PeerServer;
    });
  if (servers.length === 0) throw new UsageError('--servers lists no server');
  r.rejectUnknown();
  return { ...pair, servers };
}

const PAIR_USAGE = `  --rate R[,R...]           offered sends per second, total, open loop; one run per rate
  --pairs N                 sender→recipient pairs, one connection per end (default 200)
  --workers N               generator processes sharing the pairs (default 2)
  --duration S  --warmup S  measured seconds (default 10), unmeasured warm-up (default 3)
  --drain S                 wait at most S for late acks and pushes after a run (default 15)
  --idle S                  first measure each process's CPU with the pairs open and no load
                            for S seconds (default 5; 0 skips it)
  --body-bytes B            message body size (default 64, min 12)
  --max-outstanding N       unacked sends per sender before it skips its turn (default 16)
  --connect-concurrency N   pairs opened at the same time (default 50)
  --json FILE  --svg FILE   write the figures as JSON / the chart as SVG
  --quiet                   no per-second progress`;

export const CLUSTER_BENCH_USAGE = `usage: pnpm bench:cluster [options]   (bench/src/cluster-bench.ts)
Starts the cluster (scripts/cluster/launch.ts: 2 edges, message, presence, storage, admin), senders
on edge 1, recipients on edge 2, and prints per offered rate the CPU µs per delivered message of
every process (edges, services, PostgreSQL with its backends, Redis, Kafka), delivered/s and
send→ack / send→push p50 and p99. Backends: REDIS_URL, KAFKA_BROKERS, DATABASE_URL.
  --root LABEL=DIR[,...]    launch the services of these checkouts, one after the other (default:
                            this one); e.g. --root before=../old,after=. for a before/after table
  --env [LABEL:]NAME=VALUE[,...]  settings the launched services start with (config.ts names), for
                            every checkout or the one labelled; e.g. --root a=.,b=. --env b:IM_GRPC_LINGER_MS=4
  --attach BASE_PORT        measure the running cluster with scripts/cluster.sh's port layout
                            (edges BASE+1, BASE+2; services BASE+101..103) instead
  --secret S                with --attach: the edges' JWT secret (default $IM_JWT_SECRET)
${PAIR_USAGE}
  (default rates 500,1k,3k,6k)`;

export const PEERS_BENCH_USAGE = `usage: pnpm bench:peers [options]   (bench/src/peers-bench.ts)
The same pair load against the embedded server, aedes and Mosquitto, one after the other, with each
server's CPU µs per delivered message, delivered/s and send→push p50 / p99.
  --servers LIST            any of embedded,memory,aedes,mosquitto (default embedded,aedes,mosquitto;
                            memory: the same edge and services on the bench-only in-memory store)
${PAIR_USAGE}
  (default rates 2k,5k,10k)`;
