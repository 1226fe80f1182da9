/**
 * Command-line options of the load generator (load.ts) and the idle meter (idle.ts). Pure: no
 * process access, so tests can feed any argv/env. Unknown flags and bad values throw UsageError
 * with a message that names the flag.
 */

export class UsageError extends Error {}

export interface Endpoint {
  host: string;
  port: number;
}

/** One-to-one: each send goes to a random other user. group: K-member groups (needs the admin API). */
export type Mix = { kind: 'one-to-one' } | { kind: 'group'; size: number };

/** What `--embedded` starts: the real embedded server (SQLite), or the bench-only in-memory store variant. */
export type ServerKind = 'embedded' | 'memory';

export function parseServerKind(raw: string | undefined): ServerKind {
  if (raw === undefined || raw === 'embedded') return 'embedded';
  if (raw === 'memory') return 'memory';
  throw new UsageError(`--server must be embedded or memory, got "${raw}"`);
}

export interface LoadOptions {
  /** Edge endpoints; connections are spread over them round-robin. Empty with `embedded`. */
  targets: Endpoint[];
  /** Start an embedded server as a child process (temp data dir) and target it. */
  embedded: boolean;
  server: ServerKind;
  connections: number;
  /** Offered total send rates, messages per second (open loop); one run per rate, in order. */
  rates: number[];
  /** Measured period, seconds (after warmup). */
  durationS: number;
  warmupS: number;
  mix: Mix;
  /** Size of MessageContent.data; at least 8 (the embedded send timestamp). */
  bodyBytes: number;
  secret: string;
  /** Sends of one connection still waiting for their SendAck; past it that connection skips its turn. */
  maxOutstanding: number;
  /** After the measured period: wait at most this long for outstanding acks and pushes. */
  drainS: number;
  json?: string;
  /** Admin API base URL used to create the groups of `--mix group:K`. */
  groupsAdmin?: string;
  adminSecret: string;
  /** With --embedded: write a V8 CPU profile of the server process into this directory. */
  serverCpuProf?: string;
  /** Connections opened (TCP + LOGIN) at the same time during setup. */
  connectConcurrency: number;
  quiet: boolean;
}

export interface IdleOptions {
  /** Start the cluster (scripts/cluster/launch.ts) with `edges` edges and spread the connections over them. */
  cluster: boolean;
  edges: number;
  targets: Endpoint[];
  /** Start the edge (embedded server) as a child process; required to read its RSS unless --pid. */
  embedded: boolean;
  server: ServerKind;
  /** PID of an already running edge whose RSS to sample (with --target). */
  pid?: number;
  connections: number;
  /** Client processes that share the connections (each holds its sockets in its own fd table). */
  workers: number;
  secret: string;
  connectConcurrency: number;
  /** Seconds to wait after the connections are up (and after GC) before sampling RSS. */
  settleS: number;
  json?: string;
}

type Flags = Map<string, string | true>;

/** Splits `--name value`, `--name=value` and bare `--flag`s; anything else is a usage error. */
export function splitFlags(argv: readonly string[], booleans: ReadonlySet<string>): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (eq >= 0) {
      flags.set(name, arg.slice(eq + 1));
    } else if (booleans.has(name)) {
      flags.set(name, true);
    } else {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
      i++;
    }
  }
  return flags;
}

export function parseTargets(raw: string): Endpoint[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const colon = s.lastIndexOf(':');
      if (colon <= 0) throw new UsageError(`--target: "${s}" is not host:port`);
      const host = s.slice(0, colon);
      const port = Number(s.slice(colon + 1));
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new UsageError(`--target: bad port in "${s}"`);
      }
      return { host, port };
    });
}

export function parseMix(raw: string): Mix {
  if (raw === 'one-to-one') return { kind: 'one-to-one' };
  const m = /^group:(\d+)$/.exec(raw);
  if (m) {
    const size = Number(m[1]);
    if (size < 2) throw new UsageError('--mix group:K needs K >= 2');
    return { kind: 'group', size };
  }
  throw new UsageError(`--mix must be one-to-one or group:K, got "${raw}"`);
}

/** A number with an optional k/m suffix (`30k` = 30000). */
export function parseCount(
  name: string,
  raw: string,
  opts: { min?: number; integer?: boolean } = {},
): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(raw.trim());
  if (!m) throw new UsageError(`--${name} must be a number, got "${raw}"`);
  const mult = { '': 1, k: 1_000, m: 1_000_000 }[(m[2] as string).toLowerCase() as '' | 'k' | 'm'];
  const n = Number(m[1]) * mult;
  if (opts.integer !== false && !Number.isInteger(n)) {
    throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  }
  if (n < (opts.min ?? 0)) throw new UsageError(`--${name} must be at least ${opts.min ?? 0}, got "${raw}"`);
  return n;
}

export class Reader {
  readonly #used = new Set<string>();
  constructor(readonly flags: Flags) {}
  str(name: string): string | undefined {
    this.#used.add(name);
    const v = this.flags.get(name);
    if (v === true) throw new UsageError(`--${name} needs a value`);
    return v;
  }
  bool(name: string): boolean {
    this.#used.add(name);
    return this.flags.get(name) === true || this.flags.get(name) === 'true';
  }
  num(name: string, dflt: number, opts: { min?: number; integer?: boolean } = {}): number {
    const raw = this.str(name);
    return raw === undefined ? dflt : parseCount(name, raw, opts);
  }
  rejectUnknown(): void {
    for (const name of this.flags.keys()) {
      if (!this.#used.has(name)) throw new UsageError(`unknown option --${name}`);
    }
  }
}

const LOAD_BOOLEANS = new Set(['embedded', 'quiet', 'help']);

export function parseLoadArgs(argv: readonly string[], env: Record<string, string | undefined>): LoadOptions {
  const r = new Reader(splitFlags(argv, LOAD_BOOLEANS));
  const embedded = r.bool('embedded');
  const target = r.str('target');
  if (!embedded && !target) throw new UsageError('give --target host:port[,host:port...] or --embedded');
  if (embedded && target) throw new UsageError('--embedded and --target exclude each other');
  const secret = r.str('secret') ?? env.IM_JWT_SECRET ?? '';
  // With --embedded the bench chooses the server's secret itself.
  if (!embedded && !secret) throw new UsageError('give --secret or set IM_JWT_SECRET (the edge JWT secret)');
  const mix = parseMix(r.str('mix') ?? 'one-to-one');
  const connections = r.num('connections', 1000, { min: 2 });
  const groupsAdmin = r.str('groups-admin');
  if (mix.kind === 'group') {
    if (!groupsAdmin) {
      throw new UsageError(
        '--mix group:K needs --groups-admin <admin API URL>: group membership is managed by the admin API ' +
          '(protocol.md §6 Groups); the embedded server exposes none yet',
      );
    }
    if (mix.size > connections)
      throw new UsageError(`--mix group:${mix.size} needs --connections >= ${mix.size}`);
  }
  const bodyBytes = r.num('body-bytes', 64, { min: 8 });
  const serverCpuProf = r.str('server-cpu-prof');
  if (serverCpuProf && !embedded) throw new UsageError('--server-cpu-prof needs --embedded');
  const server = parseServerKind(r.str('server'));
  if (server !== 'embedded' && !embedded) throw new UsageError('--server needs --embedded');
  const opts: LoadOptions = {
    targets: target ? parseTargets(target) : [],
    embedded,
    server,
    connections,
    rates: (r.str('rate') ?? '1000').split(',').map((x) => parseCount('rate', x, { min: 1 })),
    durationS: r.num('duration', 10, { min: 1, integer: false }),
    warmupS: r.num('warmup', 2, { integer: false }),
    mix,
    bodyBytes,
    secret,
    maxOutstanding: r.num('max-outstanding', 16, { min: 1 }),
    drainS: r.num('drain', 30, { integer: false }),
    json: r.str('json'),
    groupsAdmin,
    adminSecret: r.str('admin-secret') ?? env.IM_ADMIN_SECRET ?? '',
    serverCpuProf,
    connectConcurrency: r.num('connect-concurrency', 100, { min: 1 }),
    quiet: r.bool('quiet'),
  };
  if (!embedded && opts.targets.length === 0) throw new UsageError('--target lists no endpoint');
  r.rejectUnknown();
  return opts;
}

const IDLE_BOOLEANS = new Set(['embedded', 'cluster', 'help']);
/** Sockets per process (edge or client) with --cluster: under the file limit of 20,000 with room for the rest. */
const SOCKETS_PER_EDGE = 17_000;
const SOCKETS_PER_CLIENT = 15_000;

export function parseIdleArgs(argv: readonly string[], env: Record<string, string | undefined>): IdleOptions {
  const r = new Reader(splitFlags(argv, IDLE_BOOLEANS));
  const cluster = r.bool('cluster');
  const target = r.str('target');
  const pidRaw = r.str('pid');
  if (cluster && (target || r.bool('embedded') || r.str('server') !== undefined)) {
    throw new UsageError('--cluster starts its own edges: it excludes --target, --embedded and --server');
  }
  // Default: start our own edge, the only way to know its pid without asking the operator.
  const embedded = !cluster && (r.bool('embedded') || !target);
  if (target && r.bool('embedded')) throw new UsageError('--embedded and --target exclude each other');
  if (target && pidRaw === undefined) {
    throw new UsageError('with --target, give --pid <edge pid> so its RSS can be read from /proc');
  }
  const secret = r.str('secret') ?? env.IM_JWT_SECRET ?? '';
  if (!embedded && !cluster && !secret) {
    throw new UsageError('give --secret or set IM_JWT_SECRET (the edge JWT secret)');
  }
  const connections = r.num('connections', cluster ? 100_000 : 19_000, { min: 1 });
  const perClient = cluster ? SOCKETS_PER_CLIENT : 5_000;
  if (!cluster && r.str('edges') !== undefined) throw new UsageError('--edges needs --cluster');
  const edges = cluster
    ? r.num('edges', Math.max(1, Math.ceil(connections / SOCKETS_PER_EDGE)), { min: 1 })
    : 1;
  const opts: IdleOptions = {
    cluster,
    edges,
    targets: target ? parseTargets(target) : [],
    embedded,
    server: parseServerKind(r.str('server')),
    pid: pidRaw === undefined ? undefined : parseCount('pid', pidRaw, { min: 1 }),
    connections,
    workers: r.num('workers', Math.max(1, Math.ceil(connections / perClient)), { min: 1 }),
    secret,
    connectConcurrency: r.num('connect-concurrency', 200, { min: 1 }),
    // After 100,000 logins V8 holds on to heap pages the burst grew into for tens of seconds
    // (docs/benchmarks.md): the cluster run waits for the steady state.
    settleS: r.num('settle', cluster ? 30 : 3, { integer: false }),
    json: r.str('json'),
  };
  r.rejectUnknown();
  return opts;
}

export const LOAD_USAGE = `usage: pnpm bench [options]   (bench/src/load.ts)
  --target host:port[,host:port...]  edges to load (connections spread round-robin)
  --embedded                         start an embedded server as a child process instead
  --server embedded|memory           with --embedded: the real one (SQLite, default) or the bench-only
                                     variant with the in-memory message store (not durable)
  --secret S                         edge JWT secret (default $IM_JWT_SECRET)
  --connections N                    logged-in users, one connection each (default 1000; keep
                                     rate/connections under the edge's per-connection frame limit)
  --rate R[,R...]                    offered sends per second, total, open loop (default 1000; 30k ok);
                                     a list runs once per rate and ends with a summary table
  --duration S   --warmup S          measured seconds (default 10), unmeasured warmup (default 2)
  --mix one-to-one|group:K           recipients (group:K needs --groups-admin URL [--admin-secret S])
  --body-bytes B                     MessageContent.data size (default 64, min 8)
  --max-outstanding N                unacked sends per connection before it skips its turn (default 16)
  --drain S                          wait at most S for late acks/pushes after the run (default 30)
  --json out.json                    write the figures as JSON
  --server-cpu-prof DIR              with --embedded: node --cpu-prof the server into DIR
  --quiet                            no per-second progress`;

export const IDLE_USAGE = `usage: pnpm bench:idle [options]   (bench/src/idle.ts)
  --connections N        idle logged-in connections (default 19000; 100000 with --cluster)
  --workers W            client processes sharing them (default ceil(N / 5000); ceil(N / 15000) with --cluster)
  --cluster              start the cluster (scripts/cluster/launch.ts) and spread the connections over
                         its edges; backends from REDIS_URL, KAFKA_BROKERS, DATABASE_URL
  --edges E              with --cluster: edge processes (default ceil(N / 17000): the file limit is 20000)
  --target host:port --pid PID --secret S   measure an edge you started (default: start one)
  --server embedded|memory   which server to start (default embedded; memory = no database)
  --settle S             seconds to wait after GC before sampling (default 3; 30 with --cluster)
  --json out.json`;
