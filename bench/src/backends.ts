/**
 * The cluster's backends as CPU targets: the process listening on the port of REDIS_URL,
 * KAFKA_BROKERS (its first broker) and DATABASE_URL, when that is on this machine. PostgreSQL
 * counts its whole process tree: the postmaster forks one backend per client connection, and
 * those backends do the SQL work.
 */
import type { CpuTarget } from './cpu-meter.js';
import { pidListeningOn } from './proc-stat.js';

export interface BackendPort {
  name: 'postgres' | 'redis' | 'kafka';
  host: string;
  port: number;
}

const LOCAL = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0']);

/** host:port of each backend URL that is set; throws on a URL it cannot read. */
export function backendPorts(env: Record<string, string | undefined>): BackendPort[] {
  const out: BackendPort[] = [];
  const fromUrl = (name: BackendPort['name'], raw: string, dflt: number) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new Error(`${name}: cannot read the URL "${raw}"`);
    }
    out.push({ name, host: u.hostname, port: u.port ? Number(u.port) : dflt });
  };
  if (env.DATABASE_URL) fromUrl('postgres', env.DATABASE_URL, 5432);
  if (env.REDIS_URL) fromUrl('redis', env.REDIS_URL, 6379);
  if (env.KAFKA_BROKERS) {
    const first = (env.KAFKA_BROKERS.split(',')[0] as string).trim();
    fromUrl('kafka', `kafka://${first}`, 9092);
  }
  return out;
}

/** CPU targets for the local backends; the ones that cannot be measured are returned as notes. */
export function backendTargets(ports: readonly BackendPort[]): { targets: CpuTarget[]; notes: string[] } {
  const targets: CpuTarget[] = [];
  const notes: string[] = [];
  for (const b of ports) {
    if (!LOCAL.has(b.host)) {
      notes.push(`${b.name} runs on ${b.host}: its CPU is not counted`);
      continue;
    }
    const pid = pidListeningOn(b.port);
    if (pid === undefined) {
      notes.push(`${b.name}: no process of this machine listens on port ${b.port}; its CPU is not counted`);
      continue;
    }
    targets.push({ name: b.name, pids: [pid], tree: b.name === 'postgres' });
  }
  return { targets, notes };
}
