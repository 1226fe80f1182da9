/** What the benches give the cluster they launch (scripts/cluster/launch.ts). */

/**
 * Every bench connection comes from 127.0.0.1, which a real deployment never sees: only the
 * per-IP guards are raised (protocol.md §6 Limits); per-connection limits keep their defaults.
 */
export const BENCH_EDGE_ENV: Readonly<Record<string, string>> = {
  IM_MAX_CONNECTIONS_PER_IP: '1000000',
  IM_ACCEPT_PER_IP_PER_SECOND: '1000000',
  IM_ACCEPT_PER_IP_BURST: '1000000',
};

/** REDIS_URL, KAFKA_BROKERS and DATABASE_URL from the environment; throws naming the one missing. */
export function backendEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['REDIS_URL', 'KAFKA_BROKERS', 'DATABASE_URL']) {
    const v = env[name];
    if (!v) throw new Error(`${name} is not set (bench/run.sh starts local backends when it is not)`);
    out[name] = v;
  }
  return out;
}
