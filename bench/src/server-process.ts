/**
 * Starts the embedded server (services/embedded/src/main.ts) as a CHILD PROCESS, so the load
 * generator never shares its event loop, and so its pid (for /proc RSS) and its CPU profile are its
 * own. It runs under plain `node --import tsx` (not the tsx CLI, which would put a wrapper process
 * between us and the server). A bench-owned preload (gc-signal.ts) lets us force a GC and read
 * process.memoryUsage() from outside.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, '../..');
const EMBEDDED_MAIN = join(REPO_ROOT, 'services/embedded/src/main.ts');
const MEMORY_MAIN = join(HERE, 'memory-server.ts');
export const GC_PRELOAD = join(HERE, 'gc-signal.ts');
const START_TIMEOUT_MS = 60_000;

export interface ServerProcessOptions {
  /** embedded: services/embedded (SQLite); memory: bench/src/memory-server.ts (in-memory store). */
  kind?: 'embedded' | 'memory';
  /** Write a V8 CPU profile (`node --cpu-prof`) into this directory when the server exits. */
  cpuProfDir?: string;
  /** Extra environment for the server (e.g. IM_HEARTBEAT_SECONDS). */
  env?: Record<string, string>;
}

export interface MemorySample {
  /** From /proc/<pid>/status VmRSS, bytes. */
  rss: number;
  /** process.memoryUsage() inside the server, right after a forced full GC. */
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface ServerProcess {
  host: string;
  port: number;
  pid: number;
  secret: string;
  dataDir: string;
  logFile: string;
  /** Forces two full GCs in the server and returns its memory figures. */
  gcAndSample(): Promise<MemorySample>;
  /** SIGTERM (the server drains, closes, and writes its CPU profile), SIGKILL if it hangs. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => ok(port));
    });
  });
}

export async function startServerProcess(opts: ServerProcessOptions = {}): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-bench-'));
  const logFile = join(dataDir, 'server.log');
  const memFile = join(dataDir, 'mem.json');
  const secret = randomBytes(24).toString('base64url');
  const host = '127.0.0.1';
  const port = await freePort();
  const log = openSync(logFile, 'a');
  const nodeArgs = ['--expose-gc'];
  if (opts.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${resolve(opts.cpuProfDir)}`);
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      '--import',
      'tsx',
      '--import',
      GC_PRELOAD,
      opts.kind === 'memory' ? MEMORY_MAIN : EMBEDDED_MAIN,
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        IM_JWT_SECRET: secret,
        IM_EDGE_HOST: host,
        IM_EDGE_PORT: String(port),
        IM_DATA_DIR: dataDir,
        IM_DRAIN_GRACE_MS: '1000',
        LOG_LEVEL: 'warn',
        // Every bench connection comes from 127.0.0.1: the per-IP guards (protocol.md §6 Limits) are
        // raised; the per-connection frame/byte rate limits stay at their defaults (the load tool
        // spreads the rate over enough connections, as real users would).
        IM_MAX_CONNECTIONS_PER_IP: '1000000',
        IM_ACCEPT_PER_IP_PER_SECOND: '1000000',
        IM_ACCEPT_PER_IP_BURST: '1000000',
        BENCH_MEM_FILE: memFile,
        ...opts.env,
      },
    },
  );
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  try {
    await waitForPort(host, port, child, exited, logFile);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const pid = child.pid as number;
  let stopping: Promise<void> | null = null;
  return {
    host,
    port,
    pid,
    secret,
    dataDir,
    logFile,
    gcAndSample: () => gcAndSample(pid, memFile),
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
          await exited;
          clearTimeout(timer);
        }
        // Keep the data dir when the log may explain a failure; the CPU profile lives elsewhere.
        if (!process.env.BENCH_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** Resolves once `host:port` accepts a connection; throws (with the child's log) if the child exits first. */
export async function waitForPort(
  host: string,
  port: number,
  child: ChildProcess,
  exited: Promise<number | null>,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  while (Date.now() < deadline) {
    if (gone) {
      throw new Error(
        `the server (pid ${child.pid}) exited with ${child.exitCode} before listening; its log:\n${readFileSync(logFile, 'utf8')}`,
      );
    }
    if (await canConnect(host, port)) return;
    await sleep(100);
  }
  throw new Error(
    `the server (pid ${child.pid}) did not listen on ${host}:${port} within ${START_TIMEOUT_MS} ms`,
  );
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      ok(true);
    });
    s.once('error', () => ok(false));
  });
}

/**
 * Asks a process started with the gc-signal.ts preload (BENCH_MEM_FILE = memFile) to run full GCs
 * and report process.memoryUsage(), then reads its VmRSS.
 */
export async function gcAndSample(pid: number, memFile: string): Promise<MemorySample> {
  if (existsSync(memFile)) unlinkSync(memFile);
  process.kill(pid, 'SIGUSR2');
  // Two full GCs of a heap holding tens of thousands of connections, on a busy machine.
  const deadline = Date.now() + 120_000;
  while (!existsSync(memFile)) {
    if (!existsSync(`/proc/${pid}`)) throw new Error(`process ${pid} exited before answering the GC signal`);
    if (Date.now() > deadline) throw new Error(`process ${pid} did not answer the GC signal in 120 s`);
    await sleep(50);
  }
  const inside = JSON.parse(readFileSync(memFile, 'utf8')) as Omit<MemorySample, 'rss'>;
  return { ...inside, rss: readRssBytes(pid) };
}

/** VmRSS of a process in bytes (Linux /proc; the kernel reports kB). */
export function readRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms));
}
