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
export const CLUSTER_KINDS = ['edge', 'message', 'presence', 'storage'] as const;
export type ClusterKind = (typeof CLUSTER_KINDS)[number];
export type Kind = ClusterKind | 'embedded';

/** Env each cluster service cannot run without (the rest have usable defaults). */
export const REQUIRED_ENV: Record<ClusterKind, readonly string[]> = {
  edge: ['IM_NODE_ID', 'IM_JWT_SECRET', 'KAFKA_BROKERS', 'REDIS_URL', 'IM_MESSAGE_ADDR', 'IM_PRESENCE_ADDR'],
  message: ['IM_STORAGE_ADDR', 'REDIS_URL', 'KAFKA_BROKERS', 'IM_WORKER_ID'],
  presence: ['REDIS_URL', 'KAFKA_BROKERS'],
  storage: ['DATABASE_URL'],
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

/** The port a service listens on for its own protocol, as its config says. */
export function listenPort(kind: Kind, cfg: Config): number {
  if (kind === 'edge' || kind === 'embedded') return configNumber(cfg, 'IM_EDGE_PORT');
  return portOf(String(configValue(cfg, GRPC_ADDR_ENV[kind])));
}

export function adminPort(cfg: Config): number {
  return configNumber(cfg, 'IM_ADMIN_PORT');
}

export { DEFAULT_PORTS, ENV_VARS };
