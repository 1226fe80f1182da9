/**
 * A single-node KRaft Kafka broker of one test file, from the jars test/infra/start.sh fetched
 * into test/.infra/kafka/libs, on ports of its own, so a test can kill it and start it again
 * (same data dir, same ports) without touching the shared broker of the other test files.
 * Startup is about 5–10 s on a 2-core machine.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  execFileAsync,
  freePort,
  type Spawned,
  spawnLogged,
  stopProcess,
  tailFile,
  waitFor,
} from './proc.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const LIBS = join(ROOT, 'test/.infra/kafka/libs');
const TEMPLATE = join(ROOT, 'test/infra/kafka/server.properties');
const LOG4J = join(ROOT, 'test/infra/kafka/log4j2.properties');
const READY = join(ROOT, 'test/infra/kafka/ready.mjs');

export interface PrivateKafka {
  brokers: string;
  port: number;
  logFile: string;
  /** SIGKILL: the broker is gone at once, as in a crash. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: the broker is frozen, its connections held open but unanswered. */
  pause(): void;
  resume(): void;
  /** Starts it again on the same ports and data; resolves when it answers metadata requests. */
  start(): Promise<void>;
  /** Stops it and deletes its files. */
  destroy(): Promise<void>;
}

/** Throws the how-to when the broker jars are missing (a fault test must fail, never skip). */
export function requireKafkaJars(): void {
  if (!existsSync(LIBS) || !existsSync(TEMPLATE))
    throw new Error(
      `no Kafka broker jars in ${LIBS}: bash test/infra/start.sh (or scripts/test.sh) fetches them`,
    );
}

const JVM = [
  '-Xms64m',
  '-Xmx256m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Djava.awt.headless=true',
];

export async function startPrivateKafka(logDir: string): Promise<PrivateKafka> {
  const port = await freePort();
  const controllerPort = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'im-kafka-'));
  const conf = join(dir, 'server.properties');
  const logFile = join(logDir, `kafka-${port}.log`);
  const template = await readFile(TEMPLATE, 'utf8');
  await writeFile(
    conf,
    template
      .replaceAll('@BROKER_PORT@', String(port))
      .replaceAll('@CONTROLLER_PORT@', String(controllerPort))
      .replaceAll('@LOG_DIR@', join(dir, 'data')),
  );
  const cp = `${LIBS}/*`;
  const jvm = [...JVM, `-Dlog4j2.configurationFile=${LOG4J}`];
  // Never an id that starts with '-': the format tool would read it as an option (1 run in 64).
  let clusterId: string;
  do clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-'));
  await execFileAsync('java', [
    ...jvm,
    '-cp',
    cp,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    conf,
  ]);

  let server: Spawned | null = null;
  const ready = async () => {
    try {
      await execFileAsync(process.execPath, [READY, `127.0.0.1:${port}`], { timeout: 5_000 });
      return true;
    } catch {
      return false;
    }
  };
  const start = async () => {
    server = spawnLogged('java', [...jvm, '-cp', cp, 'kafka.Kafka', conf], { logFile });
    const s = server;
    const died = s.exited.then(async (code) => {
      throw new Error(`kafka exited during startup (${code})\n${await tailFile(logFile)}`);
    });
    await Promise.race([waitFor(`kafka on ${port}`, ready, 60_000, logFile), died]);
    died.catch(() => {});
  };
  const shutdown = async () => {
    if (server) await stopProcess(server, 5_000);
    server = null;
  };
  await start();
  return {
    brokers: `127.0.0.1:${port}`,
    port,
    logFile,
    async kill() {
      if (server) {
        server.proc.kill('SIGKILL');
        await server.exited;
        server = null;
      }
    },
    pause: () => (server as Spawned | null)?.proc.kill('SIGSTOP'),
    resume: () => (server as Spawned | null)?.proc.kill('SIGCONT'),
    start,
    async destroy() {
      await shutdown();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
