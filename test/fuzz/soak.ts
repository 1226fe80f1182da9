/**
 * Soak: throws random and mutated frames at a running embedded server for a bounded time, then
 * checks that it still serves a fresh client and that its memory came back near where it started
 * (protocol.md §6 Limits and abuse; docs/security.md "Fuzzing").
 *
 *   pnpm exec tsx test/fuzz/soak.ts [--seconds 60] [--workers 16] [--rss-slack-mb 96]
 *
 * The server runs as a child process (services/embedded/src/main.ts, temp data dir, default limits),
 * so its RSS is its own. Attackers mix: corpus frames (test/fuzz/corpus), mutated corpus frames,
 * generated request frames for every command (test/fuzz/support.ts), raw garbage, frames split into
 * tiny writes, and connection storms; half of them log in first. Exit code 0 = healthy.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { ImClient, messageText } from '../../packages/client/src/index.js';
import { signDevToken } from '../../packages/core/src/index.js';
import { Command, FrameDecoder, frameToBytes, type Message } from '../../packages/protocol/src/index.js';
import { loginBody } from '../support/im.js';
import { loadCorpus, mutate, requestFrame } from './support.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    workers: { type: 'string', default: '16' },
    'rss-slack-mb': { type: 'string', default: '96' },
  },
});
const SECONDS = Number(values.seconds);
const WORKERS = Number(values.workers);
const RSS_SLACK = Number(values['rss-slack-mb']) * 1024 * 1024;
if (!(SECONDS > 0) || !(WORKERS > 0)) {
  console.error('usage: soak.ts [--seconds N] [--workers N] [--rss-slack-mb N]');
  process.exit(2);
}

const SECRET = 'soak-secret-0123456789abcdef-0123456789';
const stats = {
  connections: 0,
  loggedIn: 0,
  framesSent: 0,
  bytesSent: 0,
  responses: 0,
  closedByServer: 0,
  connectErrors: 0,
};
const corpus = loadCorpus();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function rssOf(pid: number): number {
  const kb = Number(
    execFileSync('ps', ['-o', 'rss=', '-p', String(pid)])
      .toString()
      .trim(),
  );
  return kb * 1024;
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = Math.random;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

async function startServer(
  dataDir: string,
  port: number,
  adminPort: number,
): Promise<{ child: ChildProcess; stderr: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/embedded/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      IM_EDGE_HOST: '127.0.0.1',
      IM_EDGE_PORT: String(port),
      IM_ADMIN_HOST: '127.0.0.1',
      IM_ADMIN_PORT: String(adminPort),
      IM_DATA_DIR: dataDir,
      IM_JWT_SECRET: SECRET,
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
  // Ready when the port accepts.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early: ${stderr.join('')}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return { child, stderr };
    if (Date.now() > deadline) throw new Error('server did not start within 60 s');
    await sleep(200);
  }
}

/** The next thing an attacker writes. */
function nextPayload(): Uint8Array {
  const r = rand();
  if (r < 0.25) return pick(pick(corpus).frames);
  if (r < 0.5) return mutate(pick(pick(corpus).frames), rand);
  if (r < 0.85) {
    const [f] = fc.sample(requestFrame, 1) as [{ command: number; flag: number; body: Uint8Array }];
    return frameToBytes({
      seq: 1 + Math.floor(rand() * 1e6),
      command: f.command,
      flag: f.flag,
      status: 0,
      body: f.body,
    });
  }
  const junk = new Uint8Array(Math.floor(rand() * 64));
  for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(rand() * 256);
  return junk;
}

/** One attacking connection: maybe log in, write a few payloads (sometimes byte by byte), leave. */
async function attack(port: number, user: number, until: number): Promise<void> {
  const socket: Socket = connect({ port, host: '127.0.0.1' });
  let closed = false;
  const decoder = new FrameDecoder({ maxBodyLength: 16 * 1024 * 1024 });
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('error', () => {
      stats.connectErrors++;
      resolve();
    });
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    if (!closed) stats.closedByServer++;
    closed = true;
  });
  socket.on('data', (chunk: Buffer) => {
    try {
      stats.responses += decoder.push(chunk).length;
    } catch {
      // A framing error in what the server sent would be a server bug; count as a close.
      closed = true;
    }
  });
  if (socket.destroyed) return;
  stats.connections++;
  const write = (b: Uint8Array) => {
    if (closed || socket.destroyed) return;
    stats.framesSent++;
    stats.bytesSent += b.length;
    socket.write(b);
  };
  if (rand() < 0.5) {
    const token = await signDevToken(SECRET, `soak-${user}`, 600);
    write(
      frameToBytes({
        seq: 1,
        command: Command.LOGIN,
        flag: 0,
        status: 0,
        body: loginBody({ userId: `soak-${user}`, deviceId: `d${user % 3}`, token }),
      }),
    );
    stats.loggedIn++;
  }
  const n = 1 + Math.floor(rand() * 20);
  for (let i = 0; i < n && !closed && Date.now() < until; i++) {
    const payload = nextPayload();
    if (rand() < 0.1 && payload.length < 64) {
      for (const b of payload) {
        write(Uint8Array.of(b));
        await sleep(5);
      }
    } else {
      write(payload);
    }
    if (rand() < 0.3) await sleep(Math.floor(rand() * 30));
  }
  await sleep(rand() < 0.2 ? 300 : 20);
  closed = true;
  socket.destroy();
}

async function freshClientWorks(port: number): Promise<void> {
  const a = `fresh-a-${Date.now()}`;
  const b = `fresh-b-${Date.now()}`;
  const mk = async (userId: string) =>
    new ImClient({
      host: '127.0.0.1',
      port,
      userId,
      deviceId: 'fresh',
      token: await signDevToken(SECRET, userId, 600),
      reconnect: false,
    });
  const alice = await mk(a);
  const bob = await mk(b);
  try {
    await alice.connect();
    await bob.connect();
    const got = new Promise<Message>((resolve) => bob.once('message', resolve));
    await alice.sendText(b, 'after the storm');
    const m = await Promise.race([got, sleep(5000).then(() => null)]);
    if (!m || messageText(m) !== 'after the storm') throw new Error('the fresh message did not arrive');
  } finally {
    await alice.close();
    await bob.close();
  }
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'im-soak-'));
  const port = await freePort();
  const adminPort = await freePort();
  console.log(`soak: starting the embedded server on 127.0.0.1:${port} (data ${dataDir})`);
  const { child, stderr } = await startServer(dataDir, port, adminPort);
  let ok = false;
  try {
    await freshClientWorks(port); // warm-up: the paths the check uses are loaded before the baseline
    // Baseline: the lowest RSS over a few seconds of quiet (start-up garbage is still being freed).
    let startRss = rssOf(child.pid as number);
    for (let i = 0; i < 8; i++) {
      await sleep(500);
      startRss = Math.min(startRss, rssOf(child.pid as number));
    }
    let peakRss = startRss;
    console.log(`soak: baseline RSS ${mb(startRss)}; attacking for ${SECONDS} s with ${WORKERS} workers`);

    const started = Date.now();
    const until = started + SECONDS * 1000;
    let user = 0;
    const progress = setInterval(() => {
      const rss = rssOf(child.pid as number);
      peakRss = Math.max(peakRss, rss);
      const s = Math.round((Date.now() - started) / 1000);
      console.log(
        `soak: ${s}s connections=${stats.connections} frames=${stats.framesSent} bytes=${stats.bytesSent} answers=${stats.responses} closedByServer=${stats.closedByServer} refusedConnects=${stats.connectErrors} rss=${mb(rss)}`,
      );
    }, 5000);
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (Date.now() < until) await attack(port, user++, until);
      }),
    );
    clearInterval(progress);
    if (child.exitCode !== null) throw new Error(`the server died: ${stderr.join('')}`);

    // Let timers, queues and the per-IP table drain, then check.
    console.log('soak: attack over; letting the server settle');
    let endRss = rssOf(child.pid as number);
    for (let i = 0; i < 15 && endRss > startRss + RSS_SLACK; i++) {
      await sleep(1000);
      endRss = rssOf(child.pid as number);
    }
    await freshClientWorks(port);
    const rssOk = endRss <= startRss + RSS_SLACK;
    console.log('soak: summary');
    console.log(`  duration          ${SECONDS} s, ${WORKERS} workers`);
    console.log(
      `  connections       ${stats.connections} (${stats.loggedIn} logged in, ${stats.connectErrors} refused at connect)`,
    );
    console.log(`  frames / bytes    ${stats.framesSent} / ${stats.bytesSent}`);
    console.log(
      `  server answers    ${stats.responses}; connections closed by the server: ${stats.closedByServer}`,
    );
    console.log(
      `  RSS               start ${mb(startRss)}, peak ${mb(peakRss)}, end ${mb(endRss)} (allowed: start + ${mb(RSS_SLACK)})`,
    );
    console.log(`  fresh client      logged in and delivered a message: yes`);
    console.log(`  server process    alive: ${child.exitCode === null ? 'yes' : 'NO'}`);
    ok = rssOk && child.exitCode === null;
    console.log(ok ? 'soak: PASS' : 'soak: FAIL (memory did not come back near its starting level)');
  } catch (err) {
    console.error(`soak: FAIL: ${(err as Error).message}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(dataDir, { recursive: true, force: true });
  }
  process.exit(ok ? 0 : 1);
}

void main();
