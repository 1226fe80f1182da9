/**
 * `bash scripts/cluster.sh`: the cluster as local processes for a human — 2 edges on 7101 / 7102
 * (IM_CLUSTER_EDGES, IM_CLUSTER_BASE_PORT change that), the services on 7201-7203, every ops port
 * printed; runs until Ctrl-C, then stops everything (edges drain first).
 * REDIS_URL, KAFKA_BROKERS and DATABASE_URL must be set (cluster.sh starts the test backends when
 * they are not). Secrets: IM_JWT_SECRET / IM_ADMIN_SECRET, else the development files in
 * <IM_DATA_DIR or .data> that embedded mode and the CLI share, so `pnpm im ... --port 7101` works.
 */
import { resolve } from 'node:path';
import { DEV_ADMIN_SECRET_FILE, readOrCreateDevSecret } from '../../services/embedded/src/dev-secret.js';
import { type Cluster, startCluster } from './launch.js';

const env = process.env;
for (const name of ['REDIS_URL', 'KAFKA_BROKERS', 'DATABASE_URL']) {
  if (!env[name]) {
    process.stderr.write(`${name} is not set (scripts/cluster.sh starts local backends when it is not)\n`);
    process.exit(2);
  }
}

/**
 * Settings passed through to every process: the backends and any IM_* / OTEL_* (tracing,
 * core tracing.ts) / LOG_LEVEL of the caller.
 */
function passThrough(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || k.startsWith('IM_CLUSTER_')) continue;
    if (
      k.startsWith('IM_') ||
      k.startsWith('OTEL_') ||
      ['LOG_LEVEL', 'REDIS_URL', 'KAFKA_BROKERS', 'DATABASE_URL'].includes(k)
    )
      out[k] = v;
  }
  return out;
}

async function main(): Promise<void> {
  const dataDir = resolve(env.IM_DATA_DIR || '.data');
  const jwtSecret = env.IM_JWT_SECRET || (await readOrCreateDevSecret(dataDir)).secret;
  const adminSecret =
    env.IM_ADMIN_SECRET || (await readOrCreateDevSecret(dataDir, DEV_ADMIN_SECRET_FILE)).secret;
  const logDir = resolve(env.IM_CLUSTER_LOG_DIR || '.data/cluster-logs');
  const prefix = env.IM_CLUSTER_PREFIX || 'local';
  process.stdout.write(`starting the cluster (prefix ${prefix}; logs in ${logDir}) ...\n`);

  let cluster: Cluster;
  try {
    cluster = await startCluster({
      edges: Number(env.IM_CLUSTER_EDGES || 2),
      basePort: Number(env.IM_CLUSTER_BASE_PORT || 7100),
      env: passThrough(),
      prefix,
      jwtSecret,
      adminSecret,
      logDir,
      // Ctrl-C reaches this process only; it stops the others in order (edges drain first).
      detached: true,
    });
  } catch (err) {
    process.stderr.write(`the cluster did not start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }

  const edges = cluster.edges.map((e) => `${e.host}:${e.port}`);
  process.stdout.write(
    [
      '',
      cluster.describe(),
      '',
      `clients connect to any edge: ${edges.join(', ')}`,
      `  pnpm im listen --as bob --port ${cluster.edges[1]?.port ?? cluster.edges[0]?.port}`,
      `  pnpm im send --as alice bob "hello" --port ${cluster.edges[0]?.port}`,
      `metrics: curl http://127.0.0.1:${cluster.edges[0]?.adminPort}/metrics`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  // A process that dies is reported (its log says why); the rest keep running.
  for (const p of cluster.all()) {
    void p.waitExit(2 ** 31 - 1).then(
      (exit) => {
        if (!stopping)
          process.stderr.write(`${p.name} exited (${JSON.stringify(exit)}); log: ${p.logFile}\n`);
      },
      () => {},
    );
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the cluster (edges drain first) ...\n`);
    cluster.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

void main();
