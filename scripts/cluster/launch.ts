/**
 * The cluster as separate OS processes on this machine: storage → presence, message (→ admin, when
 * services/admin/src/main.ts exists) → N edges, each `node --import tsx services/<name>/src/main.ts`
 * with its own environment (packages/core/src/config.ts ENV_VARS), its log in a file, and started
 * only once the ones it needs answer /readyz. Used by the cluster tests, the bench and
 * `scripts/cluster.sh`.
 *
 * Isolation: `prefix` becomes the Redis key prefix (IM_REDIS_PREFIX `<prefix>:`), the Kafka topic
 * prefix (IM_KAFKA_TOPIC_PREFIX `<prefix>.`) and the PostgreSQL schema (IM_DB_SCHEMA), so several
 * clusters can share one Redis, Kafka and PostgreSQL.
 *
 * Ports: basePort 0 (default) picks free ports. basePort B lays them out as
 *   edge i (1-based)  B+i, admin B+80+i        (B = 7100: edges 7101, 7102; admin 7181, 7182)
 *                     WebSocket B+200+i        (7301, 7302; protocol.md §1)
 *   admin API         B+80                     (7180)
 *   message           B+101, admin B+181       (7201, 7281)
 *   presence          B+102, admin B+182       (7202, 7282)
 *   storage           B+103, admin B+183       (7203, 7283)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV_VARS } from '../../packages/core/src/config.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export type ServiceName = 'edge' | 'message' | 'presence' | 'storage' | 'admin';

export interface ClusterOptions {
  /** Edge nodes; default 2. */
  edges?: number;
  /**
   * REDIS_URL, KAFKA_BROKERS, DATABASE_URL and any other setting of config.ts for every process
   * (e.g. IM_DRAIN_GRACE_MS, LOG_LEVEL). The launcher's own settings (ports, addresses, node ids,
   * prefixes, secrets) win over these.
   */
  env: Record<string, string>;
  /** Extra env per service kind, applied after `env` (e.g. { edge: { IM_HEARTBEAT_SECONDS: '5' } }). */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** [a-z][a-z0-9_]*: unique per test (Redis keys, Kafka topics, PostgreSQL schema). Default random. */
  prefix?: string;
  /** HS256 secret of LoginRequest.token (IM_JWT_SECRET); default random. */
  jwtSecret?: string;
  /** Bearer secret of the admin API (IM_ADMIN_SECRET); default random. */
  adminSecret?: string;
  /** Where each process writes `<name>.log`; default a new directory under the OS temp dir. */
  logDir?: string;
  /** 0 (default): free ports. Otherwise the fixed layout of the header comment. */
  basePort?: number;
  /** How long one process may take to answer /readyz; default 90000 (an edge joins its Kafka group). */
  readyTimeoutMs?: number;
  /** stop(): SIGTERM, then SIGKILL after this; default 20000. */
  stopTimeoutMs?: number;
  /** Include the admin service when its main.ts exists; default true. */
  admin?: boolean;
  /**
   * Each process in a process group of its own, so a terminal's Ctrl-C reaches only the caller,
   * which then stops them in order (scripts/cluster.sh). Default false: a signal to the caller's
   * group (a test run interrupted) reaches them too.
   */
  detached?: boolean;
  /**
   * The checkout whose `services/<name>/src/main.ts` run (also their working directory, so its own
   * node_modules and tsx load them); default this one. The bench measures an older commit with the
   * same launcher this way (docs/benchmarks.md "Before and after").
   */
  root?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ClusterProcess {
  /** `edge-1`, `message`, ... (also the log file's name). */
  readonly name: string;
  readonly kind: ServiceName;
  /** Its own protocol port: TCP for an edge, gRPC for a service, HTTP for the admin API. */
  readonly port: number;
  /** /healthz, /readyz, /metrics. */
  readonly adminPort: number;
  readonly logFile: string;
  /** The environment it runs with (without the inherited process environment). */
  readonly env: Readonly<Record<string, string>>;
  /** The current child process (a new one after restart()). */
  readonly proc: ChildProcess;
  readonly running: boolean;
  /** Sends a signal to the current process (default SIGTERM); no-op when it has exited. */
  kill(signal?: NodeJS.Signals): void;
  /** Resolves when the current process has exited (at once if it has); rejects after timeoutMs. */
  waitExit(timeoutMs?: number): Promise<ExitInfo>;
  /** Stops it if running (SIGTERM, bounded, then SIGKILL), starts it again with the same env and ports, waits for /readyz. */
  restart(): Promise<void>;
  /** Starts it again after it exited (kill, crash); waits for /readyz. */
  start(): Promise<void>;
  /** GET /readyz → its status code (0 when the port does not answer). */
  readyz(): Promise<number>;
  /** GET /metrics → the Prometheus text. */
  metrics(): Promise<string>;
  /** The last lines of its log file. */
  logTail(lines?: number): Promise<string>;
}

export interface EdgeProcess extends ClusterProcess {
  /** IM_NODE_ID: its Kafka delivery address. */
  readonly nodeId: string;
  readonly host: string;
  /** Its WebSocket port (IM_EDGE_WS_PORT; every edge of a launched cluster listens on one). */
  readonly wsPort: number;
}

export interface Cluster {
  readonly prefix: string;
  readonly jwtSecret: string;
  readonly adminSecret: string;
  readonly logDir: string;
  readonly edges: EdgeProcess[];
  readonly message: ClusterProcess;
  readonly presence: ClusterProcess;
  readonly storage: ClusterProcess;
  /** Present when services/admin/src/main.ts exists (and opts.admin is not false). */
  readonly admin?: ClusterProcess;
  /** Every process, in start order. */
  all(): ClusterProcess[];
  /** Human-readable list of endpoints and log files. */
  describe(): string;
  /** SIGTERM to the edges (and admin), then the services; SIGKILL whatever is left after stopTimeoutMs. Idempotent. */
  stop(): Promise<void>;
}

const PREFIX = /^[a-z][a-z0-9_]{0,40}$/;
const HOST = '127.0.0.1';

/** Children still running, killed if this process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });
}

export function mainOf(kind: ServiceName): string {
  return `services/${kind}/src/main.ts`;
}

export function hasService(kind: ServiceName, root = ROOT): boolean {
  return existsSync(join(root, mainOf(kind)));
}

/** Ports that were free a moment ago, all distinct (held open together while picking). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const srv = createServer();
      servers.push(srv);
      ports.push(
        await new Promise<number>((ok, fail) => {
          srv.once('error', fail);
          srv.listen(0, HOST, () => ok((srv.address() as { port: number }).port));
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

async function httpGet(
  port: number,
  path: string,
  timeoutMs = 2_000,
): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(`http://${HOST}:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, text: await res.text() };
  } catch {
    return { status: 0, text: '' };
  }
}

async function tail(path: string, lines = 40): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The environment a child inherits: ours, minus every setting of config.ts (the cluster defines those). */
function inheritedEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !Object.hasOwn(ENV_VARS, k)) out[k] = v;
  }
  return out;
}

class Proc implements ClusterProcess {
  private child!: ChildProcess;
  private exited!: Promise<ExitInfo>;
  private exit: ExitInfo | null = null;

  constructor(
    readonly name: string,
    readonly kind: ServiceName,
    readonly port: number,
    readonly adminPort: number,
    readonly logFile: string,
    readonly env: Readonly<Record<string, string>>,
    private readonly readyTimeoutMs: number,
    private readonly stopTimeoutMs: number,
    private readonly detached = false,
    private readonly root = ROOT,
  ) {}

  get proc(): ChildProcess {
    return this.child;
  }

  get running(): boolean {
    return this.child !== undefined && this.exit === null;
  }

  /** Spawns the process (its output appended to logFile). */
  spawn(): void {
    const fd = openSync(this.logFile, 'a');
    try {
      this.exit = null;
      // IM_CLUSTER_NODE_ARGS: extra node flags for every process (e.g. `--cpu-prof
      // --cpu-prof-dir=.data/prof` to profile the cluster under load; docs/benchmarks.md).
      const extra = (process.env.IM_CLUSTER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
      const child = spawn(process.execPath, [...extra, '--import', 'tsx', mainOf(this.kind)], {
        cwd: this.root,
        env: { ...inheritedEnv(), ...this.env },
        stdio: ['ignore', fd, fd],
        detached: this.detached,
      });
      this.child = child;
      live.add(child);
      this.exited = new Promise<ExitInfo>((ok) => {
        child.once('exit', (code, signal) => {
          live.delete(child);
          this.exit = { code, signal };
          ok(this.exit);
        });
        child.once('error', () => {
          live.delete(child);
          this.exit = { code: null, signal: null };
          ok(this.exit);
        });
      });
    } finally {
      closeSync(fd);
    }
  }

  /** Polls /readyz until 200; throws with the log tail when the process exits or the time is up. */
  async waitReady(): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    while (Date.now() < deadline) {
      if (this.exit) {
        throw new Error(
          `${this.name} exited during startup (code ${this.exit.code}, signal ${this.exit.signal}); log: ${this.logFile}\n${await this.logTail()}`,
        );
      }
      if ((await this.readyz()) === 200) return;
      await sleep(150);
    }
    throw new Error(
      `${this.name} not ready on :${this.adminPort}/readyz after ${this.readyTimeoutMs} ms; log: ${this.logFile}\n${await this.logTail()}`,
    );
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.running) this.child.kill(signal);
  }

  waitExit(timeoutMs = this.stopTimeoutMs): Promise<ExitInfo> {
    if (this.exit) return Promise.resolve(this.exit);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, fail) => {
      timer = setTimeout(
        () => fail(new Error(`${this.name} did not exit within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    return Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer));
  }

  /** SIGTERM, then SIGKILL after stopTimeoutMs. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.kill('SIGTERM');
    try {
      await this.waitExit(this.stopTimeoutMs);
    } catch {
      this.kill('SIGKILL');
      await this.exited;
    }
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is running`);
    this.spawn();
    await this.waitReady();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async readyz(): Promise<number> {
    return (await httpGet(this.adminPort, '/readyz')).status;
  }

  async metrics(): Promise<string> {
    const res = await httpGet(this.adminPort, '/metrics');
    if (res.status !== 200) throw new Error(`${this.name}: /metrics answered ${res.status}`);
    return res.text;
  }

  logTail(lines = 40): Promise<string> {
    return tail(this.logFile, lines);
  }
}

class EdgeProc extends Proc implements EdgeProcess {
  readonly host = HOST;
  constructor(
    readonly nodeId: string,
    readonly wsPort: number,
    ...args: ConstructorParameters<typeof Proc>
  ) {
    super(...args);
  }
}

/** Starts the cluster; on any failure, stops what it started and rethrows (with the log tail). */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  installExitHook();
  const edgeCount = opts.edges ?? 2;
  if (!Number.isInteger(edgeCount) || edgeCount < 1) throw new RangeError('edges must be a positive integer');
  const prefix = opts.prefix ?? `c${randomBytes(4).toString('hex')}`;
  if (!PREFIX.test(prefix)) throw new Error(`prefix must match ${PREFIX}, got ${JSON.stringify(prefix)}`);
  const jwtSecret = opts.jwtSecret ?? randomBytes(24).toString('base64url');
  const adminSecret = opts.adminSecret ?? randomBytes(24).toString('base64url');
  const logDir = opts.logDir ?? mkdtempSync(join(tmpdir(), `im-cluster-${prefix}-`));
  mkdirSync(logDir, { recursive: true });
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 20_000;
  const root = opts.root ?? ROOT;
  const withAdmin = opts.admin !== false && hasService('admin', root);

  // ---- ports
  const base = opts.basePort ?? 0;
  let ports: {
    edges: { port: number; admin: number; ws: number }[];
    message: [number, number];
    presence: [number, number];
    storage: [number, number];
    admin: [number, number];
  };
  if (base === 0) {
    const p = await freePorts(3 * edgeCount + 7);
    const take = () => p.shift() as number;
    const adminApi = take();
    ports = {
      edges: Array.from({ length: edgeCount }, () => ({ port: take(), admin: take(), ws: take() })),
      message: [take(), take()],
      presence: [take(), take()],
      storage: [take(), take()],
      // The admin API serves its /healthz, /readyz and /metrics on its own HTTP port.
      admin: [adminApi, adminApi],
    };
  } else {
    if (edgeCount > 79) throw new RangeError('the fixed port layout has room for 79 edges');
    ports = {
      edges: Array.from({ length: edgeCount }, (_, i) => ({
        port: base + 1 + i,
        admin: base + 81 + i,
        ws: base + 201 + i,
      })),
      message: [base + 101, base + 181],
      presence: [base + 102, base + 182],
      storage: [base + 103, base + 183],
      // The admin API's HTTP port also serves its /healthz, /readyz and /metrics.
      admin: [base + 80, base + 80],
    };
  }

  // ---- environment
  const common: Record<string, string> = {
    LOG_LEVEL: 'info',
    ...opts.env,
    IM_REDIS_PREFIX: `${prefix}:`,
    IM_KAFKA_TOPIC_PREFIX: `${prefix}.`,
    IM_DB_SCHEMA: prefix.replace(/_+$/, ''),
    IM_JWT_SECRET: jwtSecret,
    IM_ADMIN_SECRET: adminSecret,
    IM_ADMIN_HOST: HOST,
    IM_MESSAGE_ADDR: `${HOST}:${ports.message[0]}`,
    IM_PRESENCE_ADDR: `${HOST}:${ports.presence[0]}`,
    IM_STORAGE_ADDR: `${HOST}:${ports.storage[0]}`,
  };
  const envFor = (kind: ServiceName, own: Record<string, string>) => ({
    ...common,
    ...opts.serviceEnv?.[kind],
    ...own,
  });
  const proc = (
    name: string,
    kind: ServiceName,
    [port, adminPort]: [number, number],
    env: Record<string, string>,
  ) =>
    new Proc(
      name,
      kind,
      port,
      adminPort,
      join(logDir, `${name}.log`),
      env,
      readyTimeoutMs,
      stopTimeoutMs,
      opts.detached,
      root,
    );

  const storage = proc(
    'storage',
    'storage',
    ports.storage,
    envFor('storage', { IM_NODE_ID: `${prefix}-storage`, IM_ADMIN_PORT: String(ports.storage[1]) }),
  );
  const presence = proc(
    'presence',
    'presence',
    ports.presence,
    envFor('presence', { IM_NODE_ID: `${prefix}-presence`, IM_ADMIN_PORT: String(ports.presence[1]) }),
  );
  const message = proc(
    'message',
    'message',
    ports.message,
    envFor('message', { IM_NODE_ID: `${prefix}-message`, IM_ADMIN_PORT: String(ports.message[1]) }),
  );
  const admin = withAdmin
    ? proc(
        'admin',
        'admin',
        ports.admin,
        envFor('admin', { IM_NODE_ID: `${prefix}-admin`, IM_ADMIN_PORT: String(ports.admin[1]) }),
      )
    : undefined;
  const edges = ports.edges.map((p, i) => {
    const nodeId = `edge-${i + 1}`;
    const env = envFor('edge', {
      IM_NODE_ID: nodeId,
      IM_EDGE_HOST: HOST,
      IM_EDGE_PORT: String(p.port),
      IM_EDGE_WS: 'true',
      IM_EDGE_WS_PORT: String(p.ws),
      IM_ADMIN_PORT: String(p.admin),
    });
    return new EdgeProc(
      nodeId,
      p.ws,
      nodeId,
      'edge',
      p.port,
      p.admin,
      join(logDir, `${nodeId}.log`),
      env,
      readyTimeoutMs,
      stopTimeoutMs,
      opts.detached,
      root,
    );
  });

  const all: Proc[] = [storage, presence, message, ...(admin ? [admin] : []), ...edges];
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      // Edges (and the admin API) first: they drain their clients while the services still answer.
      await Promise.all([...edges, ...(admin ? [admin] : [])].map((p) => p.stop()));
      await Promise.all([message, presence].map((p) => p.stop()));
      await storage.stop();
    })();
    return stopping;
  };

  const startAll = async (group: Proc[]) => {
    for (const p of group) p.spawn();
    await Promise.all(group.map((p) => p.waitReady()));
  };
  try {
    await startAll([storage]);
    await startAll([presence, message]);
    if (admin) await startAll([admin]);
    await startAll(edges);
  } catch (err) {
    await stop();
    throw err;
  }

  const cluster: Cluster = {
    prefix,
    jwtSecret,
    adminSecret,
    logDir,
    edges,
    message,
    presence,
    storage,
    ...(admin ? { admin } : {}),
    all: () => [...all],
    describe() {
      const rows = all.map((p) => {
        const what =
          p.kind === 'edge'
            ? `tcp ${HOST}:${p.port} ws :${(p as EdgeProc).wsPort}`
            : p.kind === 'admin'
              ? `http ${HOST}:${p.port}`
              : `grpc ${HOST}:${p.port}`;
        return `  ${p.name.padEnd(9)} ${what.padEnd(22)} ops http://${HOST}:${p.adminPort}  log ${p.logFile}`;
      });
      return [`cluster ${prefix} (logs in ${logDir})`, ...rows].join('\n');
    },
    stop,
  };
  return cluster;
}
