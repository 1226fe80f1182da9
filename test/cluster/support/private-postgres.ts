/**
 * A PostgreSQL server of one test file, on a port of its own (initdb + pg_ctl, as
 * test/infra/start.sh does for the shared one), so a test can stop and start it without breaking
 * the other files that use the shared DATABASE_URL. As root, initdb and the server run as the
 * `postgres` user of the Debian package (initdb refuses root).
 */
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileAsync, freePort, signalTree, tailFile, waitFor } from './proc.js';

export interface PrivatePostgres {
  url: string;
  port: number;
  logFile: string;
  /** pg_ctl stop -m immediate: connections drop at once, as in a crash. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT to the postmaster and its backends: frozen, connections held open. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Stops it and deletes its files. */
  destroy(): Promise<void>;
}

async function pgBinDir(): Promise<string> {
  const { stdout } = await execFileAsync('bash', [
    '-c',
    'ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1',
  ]);
  const dir = stdout.trim();
  if (!dir)
    throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql (run scripts/test.sh once)');
  return dir;
}

export async function pgAvailable(): Promise<boolean> {
  return pgBinDir().then(
    () => true,
    () => false,
  );
}

function asPostgres(cmd: string, args: string[]) {
  const root = process.getuid?.() === 0;
  return root
    ? execFileAsync('runuser', ['-u', 'postgres', '--', cmd, ...args], { cwd: '/' })
    : execFileAsync(cmd, args);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface PrivatePostgresOptions {
  /**
   * fsync and synchronous commits on: a crash (stop -m immediate) keeps every committed write, as
   * the contract's "durably, before SendAck" assumes of a production server. Off by default: the
   * fault tests only stop it around requests, and speed matters more there.
   */
  durable?: boolean;
}

export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const durability = options.durable ? 'on' : 'off';
  const bin = await pgBinDir();
  const port = await freePort();
  // Under /tmp: the server's user must be able to reach its data dir.
  const dir = await mkdtemp(join(tmpdir(), 'im-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  if (process.getuid?.() === 0) {
    const { stdout } = await execFileAsync('id', ['-u', 'postgres']);
    const { stdout: gid } = await execFileAsync('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await asPostgres(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--no-locale',
    '--no-sync',
  ]);
  const opts = [
    '-c listen_addresses=127.0.0.1',
    `-p ${port}`,
    '-c unix_socket_directories=',
    `-c fsync=${durability}`,
    `-c synchronous_commit=${durability}`,
    `-c full_page_writes=${durability}`,
    '-c max_connections=50',
    '-c shared_buffers=16MB',
  ].join(' ');
  const start = async () => {
    try {
      await asPostgres(join(bin, 'pg_ctl'), [
        '-D',
        data,
        '-l',
        logFile,
        '-w',
        '-t',
        '30',
        '-o',
        opts,
        'start',
      ]);
    } catch (err) {
      throw new Error(`postgres did not start: ${String(err)}\n${await tailFile(logFile)}`);
    }
    await waitFor(`postgres on ${port}`, () => portOpen(port), 15_000, logFile);
  };
  const stop = async () => {
    await asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '20', 'stop']).catch(
      () => {},
    );
  };
  /** The postmaster's pid: the first line of its pid file (absent when it is not running). */
  const postmaster = async () => {
    const text = await readFile(join(data, 'postmaster.pid'), 'utf8').catch(() => '');
    const pid = Number(text.split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  };
  const signal = async (sig: NodeJS.Signals) => {
    const pid = await postmaster();
    if (pid) await signalTree(pid, sig);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    logFile,
    stop,
    start,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
