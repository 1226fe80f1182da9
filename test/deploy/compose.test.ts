/**
 * docker-compose.yml against the code: env names and defaults of packages/core/src/config.ts,
 * the services' entry points, and the wiring between the containers. No Docker engine needed:
 * the file is parsed (with YAML merge keys, as Compose reads them).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  adminPort,
  CLUSTER_KINDS,
  type ClusterKind,
  configFor,
  configNumber,
  DEFAULT_PORTS,
  GRPC_ADDR_ENV,
  hostOf,
  isEnvName,
  isGrpcKind,
  type Kind,
  kindOfMain,
  listenPorts,
  portOf,
  REQUIRED_ENV,
  ROOT,
  SECRET_READERS,
  sharedSettingProblems,
} from './facts.js';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number; published?: string | number })[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  profiles?: string[];
  stop_grace_period?: string;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = Object.entries(compose.services);

/** Compose accepts both a map and a list of KEY=VALUE. */
function envOf(svc: ComposeService): Record<string, string> {
  const env: Record<string, string> = {};
  if (Array.isArray(svc.environment)) {
    for (const item of svc.environment) {
      const i = item.indexOf('=');
      env[i < 0 ? item : item.slice(0, i)] = i < 0 ? '' : item.slice(i + 1);
    }
  } else {
    for (const [k, v] of Object.entries(svc.environment ?? {})) env[k] = v === null ? '' : String(v);
  }
  return env;
}

function commandOf(svc: ComposeService): string[] {
  if (svc.command === undefined) return [];
  return Array.isArray(svc.command) ? svc.command : svc.command.split(/\s+/).filter(Boolean);
}

/** Container side of each published port ("7101:7100", "127.0.0.1:7101:7100/tcp", long form). */
function containerPorts(svc: ComposeService): number[] {
  return (svc.ports ?? []).map((p) => {
    if (typeof p === 'number') return p;
    if (typeof p === 'object') return p.target;
    const last = p.split(':').at(-1) ?? '';
    return Number(last.split('/')[0]);
  });
}

function publishedPorts(svc: ComposeService): string[] {
  return (svc.ports ?? []).flatMap((p) => {
    if (typeof p === 'number') return [];
    if (typeof p === 'object') return p.published === undefined ? [] : [String(p.published)];
    const parts = p.split(':');
    return parts.length >= 2 ? [parts.slice(0, -1).join(':')] : [];
  });
}

function dependsOn(svc: ComposeService): Record<string, string> {
  const d = svc.depends_on;
  if (d === undefined) return {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((n) => [n, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([n, v]) => [n, v.condition ?? 'service_started']));
}

/** App services: built from the one image of this repo. */
const apps = services
  .filter(([, svc]) => svc.build !== undefined)
  .map(([name, svc]) => {
    const env = envOf(svc);
    return { name, svc, env, kind: kindOfMain(commandOf(svc)[0]) };
  });

function appsOf(kind: Kind) {
  return apps.filter((a) => a.kind === kind);
}

describe('docker-compose.yml', () => {
  it('runs every cluster service and the embedded server from the one image', () => {
    expect(apps.length).toBeGreaterThan(0);
    for (const a of apps) {
      expect(
        a.kind,
        `${a.name}: command must be services/<name>/src/main.ts of a workspace service`,
      ).toBeDefined();
      expect(a.svc.image, a.name).toBe(apps[0]?.svc.image);
    }
    for (const kind of CLUSTER_KINDS) expect(appsOf(kind).length, kind).toBeGreaterThan(0);
    const embedded = appsOf('embedded');
    expect(embedded).toHaveLength(1);
    expect(embedded[0]?.svc.profiles, 'the embedded server is opt-in').toContain('embedded');
  });

  it('sets only env names that packages/core/src/config.ts reads (ENV_VARS)', () => {
    for (const a of apps) {
      const unknown = Object.keys(a.env).filter((k) => !isEnvName(k));
      expect(unknown, `${a.name}: env names not in ENV_VARS`).toEqual([]);
      // The loader must accept every value (numbers parse, etc.).
      expect(() => configFor(a.env), a.name).not.toThrow();
    }
  });

  it('gives every cluster service the env it cannot run without', () => {
    for (const a of apps) {
      if (a.kind === undefined || a.kind === 'embedded') continue;
      const missing = REQUIRED_ENV[a.kind].filter((k) => !a.env[k]);
      expect(missing, `${a.name} (${a.kind})`).toEqual([]);
    }
  });

  it('gives a secret only to the services that read it', () => {
    for (const a of apps) {
      for (const [name, readers] of Object.entries(SECRET_READERS)) {
        if (a.env[name] === undefined) continue;
        expect(readers, `${a.name} (${a.kind}) gets ${name}`).toContain(a.kind);
      }
    }
  });

  it('has the services that share Redis, Kafka and the login keys agree on them', () => {
    const problems = sharedSettingProblems(apps.map((a) => ({ label: a.name, kind: a.kind, env: a.env })));
    expect(problems).toEqual([]);
  });

  it('gives each edge a distinct, non-empty IM_NODE_ID (its Kafka delivery address)', () => {
    const edges = appsOf('edge');
    expect(edges.length, 'two edges show the cross-node path').toBeGreaterThanOrEqual(2);
    const ids = edges.map((e) => e.env.IM_NODE_ID ?? '');
    for (const id of ids) expect(id).not.toBe('');
    expect(new Set(ids).size).toBe(ids.length);
    const all = apps.map((a) => a.env.IM_NODE_ID).filter((id) => id !== undefined);
    expect(new Set(all).size, 'node ids of all services are distinct').toBe(all.length);
  });

  it('gives an edge time to drain before Docker kills it', () => {
    for (const e of appsOf('edge')) {
      const m = /^(\d+)(ms|s|m)$/.exec(e.svc.stop_grace_period ?? '10s');
      expect(m, `${e.name}: stop_grace_period`).not.toBeNull();
      const seconds = Number(m?.[1]) * { ms: 0.001, s: 1, m: 60 }[m?.[2] as 'ms' | 's' | 'm'];
      expect(seconds, e.name).toBeGreaterThan(configNumber(configFor(e.env), 'IM_DRAIN_GRACE_MS') / 1000);
    }
  });

  it('uses the default ports of the code and publishes only ports the service listens on', () => {
    for (const a of apps) {
      if (a.kind === undefined) continue;
      const cfg = configFor(a.env);
      const own = listenPorts(a.kind, cfg);
      for (const p of own) expect(p.port, `${a.name}: ${p.name} port`).toBe(DEFAULT_PORTS[p.name]);
      expect(adminPort(cfg), `${a.name}: admin port`).toBe(DEFAULT_PORTS.admin);
      for (const p of containerPorts(a.svc))
        expect(
          own.map((o) => o.port),
          `${a.name}: port ${p}`,
        ).toContain(p);
    }
    for (const e of [...appsOf('edge'), ...appsOf('embedded')]) {
      expect(containerPorts(e.svc), `${e.name} publishes the edge port`).toContain(DEFAULT_PORTS.edge);
    }
    const admin = appsOf('admin');
    expect(admin, 'one admin API').toHaveLength(1);
    expect(publishedPorts(admin[0]?.svc ?? {}), 'the admin API on localhost:7180').toEqual([
      String(DEFAULT_PORTS.admin),
    ]);
    expect(containerPorts(admin[0]?.svc ?? {})).toEqual([DEFAULT_PORTS.admin]);
    const published = services.flatMap(([, svc]) => (svc.profiles ? [] : publishedPorts(svc)));
    expect(new Set(published).size, 'host ports of the default profile are distinct').toBe(published.length);
  });

  it('has each gRPC service listen on its port and the others dial it there', () => {
    for (const a of apps) {
      if (a.kind === undefined || !isGrpcKind(a.kind)) continue;
      const own = a.env[GRPC_ADDR_ENV[a.kind]];
      if (own !== undefined)
        expect(['0.0.0.0', '::', '[::]'], `${a.name} listens on all interfaces`).toContain(hostOf(own));
    }
    for (const a of apps) {
      for (const [kind, name] of Object.entries(GRPC_ADDR_ENV) as [ClusterKind, string][]) {
        const addr = a.env[name];
        if (addr === undefined || kind === a.kind) continue;
        const target = compose.services[hostOf(addr)];
        expect(target, `${a.name}: ${name}=${addr} names a compose service`).toBeDefined();
        expect(kindOfMain(commandOf(target ?? {})[0]), `${a.name}: ${name} points at a ${kind}`).toBe(kind);
        expect(portOf(addr), `${a.name}: ${name} port`).toBe(DEFAULT_PORTS[kind]);
      }
    }
  });

  it('points REDIS_URL, KAFKA_BROKERS and DATABASE_URL at the compose backends', () => {
    for (const a of apps) {
      const redis = a.env.REDIS_URL;
      if (redis !== undefined)
        expect(compose.services[new URL(redis).hostname], `${a.name}: REDIS_URL`).toBeDefined();
      const brokers = a.env.KAFKA_BROKERS;
      if (brokers !== undefined) {
        for (const b of configFor(a.env).kafkaBrokers) {
          const kafka = compose.services[hostOf(b)];
          expect(kafka, `${a.name}: broker ${b}`).toBeDefined();
          // A client bootstraps on this address and then uses what the broker advertises.
          expect(String(envOf(kafka ?? {}).KAFKA_ADVERTISED_LISTENERS)).toContain(`//${b}`);
        }
      }
      const db = a.env.DATABASE_URL;
      if (db !== undefined) {
        const url = new URL(db);
        const pg = compose.services[url.hostname];
        expect(pg, `${a.name}: DATABASE_URL host`).toBeDefined();
        const pgEnv = envOf(pg ?? {});
        expect(decodeURIComponent(url.username)).toBe(pgEnv.POSTGRES_USER);
        expect(decodeURIComponent(url.password)).toBe(pgEnv.POSTGRES_PASSWORD);
        expect(url.pathname.slice(1)).toBe(pgEnv.POSTGRES_DB);
      }
    }
  });

  it('health-checks every app service on GET /healthz of its admin port', () => {
    for (const a of apps) {
      const test = a.svc.healthcheck?.test;
      expect(test, `${a.name}: healthcheck`).toBeDefined();
      const text = Array.isArray(test) ? test.join(' ') : String(test);
      const url = /https?:\/\/[^\s'"`]+/.exec(text)?.[0];
      expect(url, `${a.name}: healthcheck URL`).toBeDefined();
      const u = new URL(url ?? '');
      expect(u.pathname, a.name).toBe('/healthz');
      expect(Number(u.port), `${a.name}: IM_ADMIN_PORT`).toBe(adminPort(configFor(a.env)));
    }
  });

  it('starts a service only after the services it dials are healthy', () => {
    for (const [name, svc] of services) {
      for (const [dep, condition] of Object.entries(dependsOn(svc))) {
        const target = compose.services[dep];
        expect(target, `${name} depends on ${dep}`).toBeDefined();
        expect(condition, `${name} → ${dep}`).toBe('service_healthy');
        expect(target?.healthcheck?.test, `${dep} has a healthcheck for ${name} to wait on`).toBeDefined();
      }
    }
    for (const a of apps) {
      const deps = Object.keys(dependsOn(a.svc));
      const dialled = new Set<string>();
      for (const [name, value] of Object.entries(a.env)) {
        if (name === 'REDIS_URL' || name === 'DATABASE_URL') dialled.add(new URL(value).hostname);
        if (name === 'KAFKA_BROKERS') for (const b of value.split(',')) dialled.add(hostOf(b.trim()));
        if ((Object.values(GRPC_ADDR_ENV) as string[]).includes(name)) dialled.add(hostOf(value));
      }
      for (const host of dialled) {
        if (compose.services[host] === undefined || host === a.name) continue;
        expect(deps, `${a.name} dials ${host}`).toContain(host);
      }
    }
  });
});
