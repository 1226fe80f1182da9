/**
 * What the deployment descriptions must agree on, taken from the code itself: env names and
 * defaults from the one config loader, service entry points from the workspace.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, DEFAULT_PORTS, ENV_VARS, loadConfig } from '../../packages/core/src/config.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The services started from the one image, each as `node --import tsx services/<kind>/src/main.ts`. */
export const CLUSTER_KINDS = ['edge', 'message', 'presence', 'storage', 'admin'] as const;
export type ClusterKind = (typeof CLUSTER_KINDS)[number];
export type Kind = ClusterKind | 'embedded';

/**
 * Env each cluster service cannot run without (the rest have usable defaults, which in a container
 * point at 127.0.0.1). IM_WORKER_ID is not here: unset, the message service leases one from Redis.
 */
export const REQUIRED_ENV: Record<ClusterKind, readonly string[]> = {
  edge: ['IM_NODE_ID', 'IM_JWT_SECRET', 'KAFKA_BROKERS', 'REDIS_URL', 'IM_MESSAGE_ADDR', 'IM_PRESENCE_ADDR'],
  message: ['IM_STORAGE_ADDR', 'REDIS_URL', 'KAFKA_BROKERS'],
  presence: ['REDIS_URL', 'KAFKA_BROKERS'],
  storage: ['DATABASE_URL'],
  // services/admin/src/main.ts: refuses to start without the secret; dials presence, storage, Redis.
  admin: ['IM_ADMIN_SECRET', 'IM_PRESENCE_ADDR', 'IM_STORAGE_ADDR', 'REDIS_URL'],
};

/**
 * Secrets and the processes that read them; no other process gets them. IM_JWT_SECRET: the edges
 * verify logins with it, the admin API signs development tokens with it (POST /v1/tokens).
 */
export const SECRET_READERS: Record<string, readonly Kind[]> = {
  IM_ADMIN_SECRET: ['admin', 'embedded'],
  IM_JWT_SECRET: ['edge', 'admin', 'embedded'],
  IM_RSA_PRIVATE_KEY: ['edge', 'admin', 'embedded'],
  DATABASE_URL: ['storage'],
};

/** The gRPC services and the config field holding the address they serve on / are dialled at. */
export const GRPC_ADDR_ENV = {
  message: 'IM_MESSAGE_ADDR',
  presence: 'IM_PRESENCE_ADDR',
  storage: 'IM_STORAGE_ADDR',
} as const satisfies Partial<Record<ClusterKind, keyof typeof ENV_VARS>>;
export type GrpcKind = keyof typeof GRPC_ADDR_ENV;

export function isGrpcKind(kind: string): kind is GrpcKind {
  return kind in GRPC_ADDR_ENV;
}

export function isEnvName(name: string): boolean {
  return Object.hasOwn(ENV_VARS, name);
}

const MAIN_RE = /^services\/([a-z][a-z0-9-]*)\/src\/main\.ts$/;

/** `services/<kind>/src/main.ts` → kind, if <kind> is a service of the workspace; else undefined. */
export function kindOfMain(path: string | undefined): Kind | undefined {
  const kind = path === undefined ? undefined : MAIN_RE.exec(path)?.[1];
  if (kind === undefined) return undefined;
  if (kind !== 'embedded' && !(CLUSTER_KINDS as readonly string[]).includes(kind)) return undefined;
  return existsSync(join(ROOT, 'services', kind, 'package.json')) ? (kind as Kind) : undefined;
}

/** The config the process would run with, through the real loader (throws on a bad value). */
export function configFor(env: Record<string, string>): Config {
  return loadConfig(env);
}

export function portOf(hostPort: string): number {
  const m = /^(.*):(\d+)$/.exec(hostPort);
  if (!m) throw new Error(`not host:port: ${hostPort}`);
  return Number(m[2]);
}

export function hostOf(hostPort: string): string {
  const m = /^(.*):(\d+)$/.exec(hostPort);
  if (!m?.[1]) throw new Error(`not host:port: ${hostPort}`);
  return m[1];
}

/** The value a config field takes, found through ENV_VARS (env name → config path). */
export function configValue(cfg: Config, name: keyof typeof ENV_VARS): unknown {
  return ENV_VARS[name]
    .split('.')
    .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], cfg as unknown);
}

export function configNumber(cfg: Config, name: keyof typeof ENV_VARS): number {
  const v = configValue(cfg, name);
  if (typeof v !== 'number') throw new Error(`${name} is not a number in the config: ${String(v)}`);
  return v;
}

/** The port a service listens on for its own protocol (the admin service: its HTTP port). */
export function listenPort(kind: Kind, cfg: Config): number {
  if (kind === 'edge' || kind === 'embedded') return configNumber(cfg, 'IM_EDGE_PORT');
  if (kind === 'admin') return adminPort(cfg);
  return portOf(String(configValue(cfg, GRPC_ADDR_ENV[kind])));
}

export function adminPort(cfg: Config): number {
  return configNumber(cfg, 'IM_ADMIN_PORT');
}

/** The edge's TLS listener is on exactly when both files are set (config.ts edge.tlsPort). */
export function edgeTls(cfg: Config): boolean {
  return cfg.edge.tlsCertFile !== '' && cfg.edge.tlsKeyFile !== '';
}

export interface NamedPort {
  /** Which DEFAULT_PORTS entry this port is. */
  name: keyof typeof DEFAULT_PORTS;
  port: number;
}

/** Every port the process listens on, as its config says: its protocol port(s), then HTTP. */
export function listenPorts(kind: Kind, cfg: Config): NamedPort[] {
  const out: NamedPort[] = [];
  if (kind === 'edge' || kind === 'embedded') {
    if (cfg.edge.plain) out.push({ name: 'edge', port: configNumber(cfg, 'IM_EDGE_PORT') });
    if (edgeTls(cfg)) out.push({ name: 'edgeTls', port: configNumber(cfg, 'IM_EDGE_TLS_PORT') });
    if (cfg.edge.ws) out.push({ name: 'edgeWs', port: configNumber(cfg, 'IM_EDGE_WS_PORT') });
  } else if (isGrpcKind(kind)) {
    out.push({ name: kind, port: listenPort(kind, cfg) });
  }
  out.push({ name: 'admin', port: adminPort(cfg) });
  return out;
}

/** The ports clients of the binary protocol connect to (plain, TLS, WebSocket). */
export function clientPorts(cfg: Config): number[] {
  return listenPorts('edge', cfg)
    .filter((p) => p.name !== 'admin')
    .map((p) => p.port);
}

/**
 * Settings that processes sharing a backend must agree on, keyed by the env that says the process
 * uses it (REQUIRED_ENV): one Redis and key prefix (the admin API reads the chatroom registry the
 * message service writes under `<IM_REDIS_PREFIX>rooms:`), one Kafka and topic prefix.
 */
export const SHARED_BACKENDS = {
  REDIS_URL: (cfg: Config) => ({ redisUrl: cfg.redisUrl, redisPrefix: cfg.redisPrefix }),
  KAFKA_BROKERS: (cfg: Config) => ({
    kafkaBrokers: [...cfg.kafkaBrokers].sort(),
    kafkaTopicPrefix: cfg.kafkaTopicPrefix,
  }),
} as const;

/**
 * Mismatches of SHARED_BACKENDS among the given processes, plus the keys edges and admin share:
 * the admin API publishes the public half of the RSA key the edges decrypt RSA logins with
 * (protocol.md §2), and its development tokens must verify at every edge. Secrets are not printed.
 */
export function sharedSettingProblems(
  apps: { label: string; kind: Kind | undefined; env: Record<string, string> }[],
): string[] {
  const problems: string[] = [];
  const agree = (what: string, members: typeof apps, view: (cfg: Config) => unknown, secret = false) => {
    const first = members[0];
    if (first === undefined) return;
    const want = JSON.stringify(view(configFor(first.env)));
    for (const m of members.slice(1)) {
      const got = JSON.stringify(view(configFor(m.env)));
      if (got === want) continue;
      problems.push(
        secret
          ? `${what}: ${m.label} differs from ${first.label}`
          : `${what}: ${m.label} has ${got}, ${first.label} has ${want}`,
      );
    }
  };
  const cluster = apps.filter((a) => a.kind !== undefined && a.kind !== 'embedded');
  for (const [env, view] of Object.entries(SHARED_BACKENDS)) {
    agree(
      env,
      cluster.filter((a) => REQUIRED_ENV[a.kind as ClusterKind].includes(env)),
      view,
    );
  }
  agree(
    'server RSA key',
    cluster.filter((a) => a.kind === 'edge' || a.kind === 'admin'),
    (cfg) => cfg.serverKey,
    true,
  );
  const issuesTokens = (env: Record<string, string>) => {
    const cfg = configFor(env);
    return cfg.admin.devTokens && cfg.auth.jwtSecret !== '';
  };
  agree(
    'IM_JWT_SECRET (logins, development tokens)',
    cluster.filter((a) => a.kind === 'edge' || (a.kind === 'admin' && issuesTokens(a.env))),
    (cfg) => cfg.auth.jwtSecret,
    true,
  );
  return problems;
}

export { DEFAULT_PORTS, ENV_VARS };
