/**
 * The servers `pnpm bench:peers` compares, each started as a child process on a free loopback
 * port: the embedded server (server-process.ts), aedes (aedes-server.ts) and Mosquitto (the Debian
 * package; bench/run.sh installs it when missing).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerServer } from './pair-args.js';
import { freePort, REPO_ROOT, startServerProcess, waitForPort } from './server-process.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const HOST = '127.0.0.1';
const STOP_TIMEOUT_MS = 10_000;

export interface PeerProcess {
  name: PeerServer;
  host: string;
  port: number;
  pid: number;
  /** The IM edge's JWT secret (embedded only). */
  secret?: string;
  /** What the process is, for the report (e.g. "mosquitto 2.0.11"). */
  version: string;
  stop(): Promise<void>;
}

export async function startPeer(name: PeerServer): Promise<PeerProcess> {
  if (name === 'embedded' || name === 'memory') {
    const s = await startServerProcess({ kind: name });
    return {
      name,
      host: s.host,
      port: s.port,
      pid: s.pid,
      secret: s.secret,
      version:
        name === 'embedded'
          ? 'services/embedded (this checkout)'
          : 'bench/src/memory-server.ts (this checkout, in-memory store)',
      stop: () => s.stop(),
    };
  }
  if (name === 'aedes') return startAedes();
  return startMosquitto();
}

async function startChild(
  name: PeerServer,
  command: string,
  args: string[],
  env: Record<string, string>,
  port: number,
  dir: string,
): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const logFile = join(dir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  try {
    await waitForPort(HOST, port, child, exited, logFile);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    child,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

async function startAedes(): Promise<PeerProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'im-bench-aedes-'));
  const { child, stop } = await startChild(
    'aedes',
    process.execPath,
    ['--import', 'tsx', join(HERE, 'aedes-server.ts')],
    { BENCH_AEDES_HOST: HOST, BENCH_AEDES_PORT: String(port) },
    port,
    dir,
  );
  // aedes' package exports only its entry point, so its version is read from the installed package.
  const pkg = JSON.parse(readFileSync(join(HERE, '../node_modules/aedes/package.json'), 'utf8')) as {
    version: string;
  };
  const version = pkg.version;
  return { name: 'aedes', host: HOST, port, pid: child.pid as number, version: `aedes ${version}`, stop };
}

/** The mosquitto binary: on PATH, or where the Debian package puts it. */
export function findMosquitto(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : undefined;
  }
}

/**
 * Mosquitto in memory on its own loopback port. Its defaults stay, except: anonymous clients on
 * this listener, no persistence, no cap on queued QoS 1 messages per client (a full queue would
 * drop messages silently, which the bench would report as undelivered rather than as slowness),
 * and TCP_NODELAY, as the IM edge and aedes have: with Nagle on, its small PUBACKs wait for the
 * client's delayed ACK and add tens of ms that are no broker work.
 */
async function startMosquitto(): Promise<PeerProcess> {
  const bin = findMosquitto();
  if (!bin)
    throw new Error('mosquitto not found: bash bench/run.sh peers installs it (apt-get install mosquitto)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'im-bench-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} ${HOST}`,
      'allow_anonymous true',
      'persistence false',
      'max_queued_messages 0',
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const { child, stop } = await startChild('mosquitto', bin, ['-c', conf], {}, port, dir);
  let version = 'mosquitto';
  try {
    // `mosquitto -h` prints "mosquitto version X" and exits 3.
    execFileSync(bin, ['-h'], { encoding: 'utf8' });
  } catch (err) {
    const m = /mosquitto version (\S+)/.exec(String((err as { stdout?: string }).stdout ?? ''));
    if (m) version = `mosquitto ${m[1]}`;
  }
  return { name: 'mosquitto', host: HOST, port, pid: child.pid as number, version, stop };
}
