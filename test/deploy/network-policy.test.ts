/**
 * deploy/base/network-policy.yaml against the service graph of the code (facts.ts): rendered with
 * kustomize, evaluated with NetworkPolicy semantics (network-policy.ts), every connection the
 * cluster could attempt is allowed exactly when the architecture has that hop.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adminPort,
  type ClusterKind,
  clientPorts,
  configFor,
  GRPC_ADDR_ENV,
  isGrpcKind,
  kindOfMain,
  listenPort,
  REQUIRED_ENV,
} from './facts.js';
import { byKind, containerPorts, containersOf, effectiveEnv, workloads } from './k8s.js';
import { ensureRenderer, type K8sObject, renderObjects } from './kustomize-render.js';
import { allowed, type IpPeer, otherPod, type PodPeer, workloadPeer } from './network-policy.js';

const renderer = ensureRenderer();

interface App {
  kind: ClusterKind;
  pod: PodPeer;
  env: Record<string, string>;
  ports: number[];
}

const CLIENT: IpPeer = { kind: 'ip', name: 'a client on the internet', ip: '203.0.113.7' };
const BACKEND: IpPeer = { kind: 'ip', name: 'a managed backend', ip: '198.51.100.9' };

/** The port of a URL, or its scheme's default. */
function urlPort(url: string, fallback: number): number {
  const u = new URL(url);
  return u.port ? Number(u.port) : fallback;
}

/** The backend ports a service's env points at, each with the env name that needs it. */
function backendPorts(env: Record<string, string>): { need: string; port: number }[] {
  const out: { need: string; port: number }[] = [];
  if (env.REDIS_URL) out.push({ need: 'REDIS_URL', port: urlPort(env.REDIS_URL, 6379) });
  if (env.DATABASE_URL) out.push({ need: 'DATABASE_URL', port: urlPort(env.DATABASE_URL, 5432) });
  for (const broker of (env.KAFKA_BROKERS ?? '').split(',').filter(Boolean)) {
    out.push({ need: 'KAFKA_BROKERS', port: Number(broker.split(':').at(-1)) });
  }
  return out;
}

describe.each(['deploy/base', 'deploy/overlays/example'])('NetworkPolicy in %s', (dir) => {
  let policies: K8sObject[] = [];
  let apps: App[] = [];
  const every = () => apps;
  const of = (kind: ClusterKind) => apps.find((a) => a.kind === kind) as App;

  beforeAll(() => {
    const objects = renderObjects(renderer, dir);
    policies = byKind(objects, 'NetworkPolicy');
    apps = workloads(objects).flatMap((w) =>
      containersOf(w).flatMap((c) => {
        const kind = kindOfMain(c.args?.[0]);
        if (kind === undefined || kind === 'embedded') return [];
        return [
          { kind, pod: workloadPeer(w), env: effectiveEnv(objects, w, c).env, ports: containerPorts(c) },
        ];
      }),
    );
  });

  it('isolates every pod of the cluster, both ways', () => {
    expect(policies.length).toBeGreaterThan(0);
    expect(apps.map((a) => a.kind).sort()).toEqual(['admin', 'edge', 'message', 'presence', 'storage']);
    // A pod of the cluster reaches nothing that no rule names, and nothing reaches it.
    const stranger = otherPod('a pod of another app', every()[0]?.pod.namespace ?? 'default', { app: 'x' });
    for (const a of every()) {
      expect(allowed(policies, a.pod, BACKEND, 443), `${a.kind} → :443`).toBe(false);
      expect(allowed(policies, a.pod, stranger, 8080), `${a.kind} → another app`).toBe(false);
    }
  });

  it('allows exactly the gRPC hops the services dial (facts.ts REQUIRED_ENV)', () => {
    const hops: string[] = [];
    for (const from of every()) {
      for (const to of every()) {
        if (from === to || !isGrpcKind(to.kind)) continue;
        const port = listenPort(to.kind, configFor(to.env));
        const dials = REQUIRED_ENV[from.kind].includes(GRPC_ADDR_ENV[to.kind]);
        expect(allowed(policies, from.pod, to.pod, port), `${from.kind} → ${to.kind}:${port}`).toBe(dials);
        if (dials) hops.push(`${from.kind}→${to.kind}`);
      }
    }
    expect(hops.sort()).toEqual([
      'admin→presence',
      'admin→storage',
      'edge→message',
      'edge→presence',
      'message→storage',
    ]);
  });

  it('allows no other port between the services (metrics and client ports included)', () => {
    for (const from of every()) {
      for (const to of every()) {
        if (from === to) continue;
        for (const port of to.ports) {
          const grpc = isGrpcKind(to.kind) && port === listenPort(to.kind, configFor(to.env));
          if (grpc) continue; // the previous test
          // Not even an edge's client port, open to everyone: no service's egress goes there.
          expect(allowed(policies, from.pod, to.pod, port), `${from.kind} → ${to.kind}:${port}`).toBe(false);
        }
      }
    }
  });

  it('lets clients from anywhere reach the edges on the client ports, and nothing else', () => {
    for (const to of every()) {
      for (const port of to.ports) {
        const client = to.kind === 'edge' && clientPorts(configFor(to.env)).includes(port);
        expect(allowed(policies, CLIENT, to.pod, port), `client → ${to.kind}:${port}`).toBe(client);
      }
    }
    expect(clientPorts(configFor(of('edge').env)).length).toBeGreaterThan(0);
  });

  it("lets Prometheus (namespace monitoring) scrape every pod's /metrics port, and no other namespace", () => {
    const prometheus = otherPod('prometheus', 'monitoring', { 'app.kubernetes.io/name': 'prometheus' });
    const elsewhere = otherPod('a pod elsewhere', 'elsewhere', { 'app.kubernetes.io/name': 'prometheus' });
    for (const to of every()) {
      const metrics = adminPort(configFor(to.env));
      expect(allowed(policies, prometheus, to.pod, metrics), `prometheus → ${to.kind}:${metrics}`).toBe(true);
      expect(allowed(policies, elsewhere, to.pod, metrics), `elsewhere → ${to.kind}:${metrics}`).toBe(false);
      for (const port of to.ports.filter((p) => p !== metrics)) {
        const client = to.kind === 'edge' && clientPorts(configFor(to.env)).includes(port);
        expect(allowed(policies, prometheus, to.pod, port), `prometheus → ${to.kind}:${port}`).toBe(client);
      }
    }
  });

  it('lets each service reach only the backends it uses, on the ports of its URLs', () => {
    const used = new Set<number>();
    for (const a of every()) for (const b of backendPorts(a.env)) used.add(b.port);
    expect([...used].sort()).toEqual([5432, 6379, 9092]);
    for (const a of every()) {
      for (const port of used) {
        const needs = backendPorts(a.env).some(
          (b) => b.port === port && REQUIRED_ENV[a.kind].includes(b.need),
        );
        expect(allowed(policies, a.pod, BACKEND, port), `${a.kind} → backend :${port}`).toBe(needs);
      }
    }
  });

  it('lets every pod resolve names (DNS, UDP and TCP 53)', () => {
    const dns = otherPod('kube-dns', 'kube-system', { 'k8s-app': 'kube-dns' }, [
      { name: 'dns', containerPort: 53, protocol: 'UDP' },
    ]);
    for (const a of every()) {
      expect(allowed(policies, a.pod, dns, 53, 'UDP'), `${a.kind} → dns`).toBe(true);
      expect(allowed(policies, a.pod, dns, 53, 'TCP'), `${a.kind} → dns/tcp`).toBe(true);
    }
  });
});
