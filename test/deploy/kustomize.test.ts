/**
 * deploy/ (kustomize) against the code: what `kubectl apply -k` would send, rendered with
 * `kubectl kustomize`, checked against packages/core/src/config.ts (env names, ports, drain grace)
 * and against itself (Services → container ports, references → ConfigMaps/Secrets, PDB/HPA → edge).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adminPort,
  CLUSTER_KINDS,
  type ClusterKind,
  clientPorts,
  configFor,
  configNumber,
  DEFAULT_PORTS,
  GRPC_ADDR_ENV,
  hostOf,
  isEnvName,
  isGrpcKind,
  kindOfMain,
  listenPort,
  listenPorts,
  portOf,
  REQUIRED_ENV,
  SECRET_READERS,
  sharedSettingProblems,
} from './facts.js';
import {
  byKind,
  containerPorts,
  containersOf,
  effectiveEnv,
  matches,
  podLabels,
  preStopSeconds,
  resolvePort,
  workloads,
} from './k8s.js';
import { ensureRenderer, type K8sObject, type Renderer, renderObjects } from './kustomize-render.js';

// Always rendered: with kubectl or kustomize when the machine has one, else with kustomize built
// from its Go module on first use (kustomize-render.ts). No skip: the manifests must not drift.
let renderer: Renderer;
beforeAll(() => {
  renderer = ensureRenderer();
}, 600_000);

interface App {
  workload: K8sObject;
  container: K8sObject;
  kind: ClusterKind | undefined;
  env: Record<string, string>;
  entries: Record<string, K8sObject>;
  problems: string[];
}

function appsOf(objects: K8sObject[]): App[] {
  return workloads(objects).flatMap((workload) =>
    containersOf(workload).map((container) => {
      const kind = kindOfMain(container.args?.[0]);
      return {
        workload,
        container,
        kind: kind === 'embedded' ? undefined : kind,
        ...effectiveEnv(objects, workload, container),
      };
    }),
  );
}

const label = (a: App) => `${a.workload.kind}/${a.workload.metadata.name}`;

describe.each(['deploy/base', 'deploy/overlays/example', 'deploy/overlays/example-monitoring'])(
  'kustomize %s',
  (dir) => {
    let objects: K8sObject[] = [];
    let apps: App[] = [];
    const only = (kind: ClusterKind): App => {
      const found = apps.filter((a) => a.kind === kind);
      expect(found, `one ${kind} workload`).toHaveLength(1);
      return found[0] as App;
    };

    beforeAll(() => {
      objects = renderObjects(renderer, dir);
      apps = appsOf(objects);
    });

    it('runs each cluster service once, from the one image, through its entry point', () => {
      for (const kind of CLUSTER_KINDS) only(kind);
      for (const a of apps) {
        expect(a.kind, `${label(a)}: args[0] is services/<name>/src/main.ts`).toBeDefined();
        // No `command`: the image's ENTRYPOINT (node --import tsx) is the one way to start.
        expect(a.container.command, label(a)).toBeUndefined();
        expect(a.container.image, `${label(a)}: one image`).toBe(apps[0]?.container.image);
      }
    });

    it('sets only env names of ENV_VARS, in containers, ConfigMaps and Secrets', () => {
      const names = [
        ...apps.flatMap((a) => (a.container.env ?? []).map((e: K8sObject) => e.name as string)),
        ...byKind(objects, 'ConfigMap').flatMap((c) => Object.keys(c.data ?? {})),
        ...byKind(objects, 'Secret').flatMap((s) => Object.keys({ ...s.data, ...s.stringData })),
      ];
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((n) => !isEnvName(n))).toEqual([]);
    });

    it('resolves every ConfigMap/Secret reference, and the loader accepts the result', () => {
      for (const a of apps) {
        expect(a.problems, label(a)).toEqual([]);
        expect(() => configFor(a.env), label(a)).not.toThrow();
      }
    });

    it('gives every service the env it cannot run without', () => {
      for (const a of apps) {
        if (a.kind === undefined) continue;
        expect(
          REQUIRED_ENV[a.kind].filter((k) => !a.env[k]),
          label(a),
        ).toEqual([]);
      }
    });

    it('declares the ports of the code: own protocol (edge: plain and/or TLS) and admin', () => {
      for (const a of apps) {
        if (a.kind === undefined) continue;
        const cfg = configFor(a.env);
        const own = listenPorts(a.kind, cfg);
        for (const p of own) expect(p.port, `${label(a)}: ${p.name} port`).toBe(DEFAULT_PORTS[p.name]);
        expect(adminPort(cfg), label(a)).toBe(DEFAULT_PORTS.admin);
        expect(containerPorts(a.container).sort(), label(a)).toEqual(own.map((p) => p.port).sort());
        for (const p of a.container.ports ?? []) expect(p.protocol ?? 'TCP', label(a)).toBe('TCP');
        if (isGrpcKind(a.kind)) {
          // Its own address is where it listens: all interfaces, not the Service name.
          expect(['0.0.0.0', '::', '[::]'], label(a)).toContain(hostOf(a.env[GRPC_ADDR_ENV[a.kind]] ?? ''));
        }
        const scrape = a.workload.spec.template.metadata?.annotations?.['prometheus.io/port'];
        if (scrape !== undefined) expect(Number(scrape), `${label(a)}: /metrics port`).toBe(adminPort(cfg));
      }
    });

    it('probes /readyz and /healthz on the admin port', () => {
      for (const a of apps) {
        const admin = adminPort(configFor(a.env));
        const probes: [string, string][] = [
          ['readinessProbe', '/readyz'],
          ['livenessProbe', '/healthz'],
          ['startupProbe', '/healthz'],
        ];
        for (const [probe, path] of probes) {
          const get = a.container[probe]?.httpGet;
          if (probe === 'startupProbe' && a.container[probe] === undefined) continue;
          expect(get, `${label(a)}: ${probe}`).toBeDefined();
          expect(get.path, `${label(a)}: ${probe}`).toBe(path);
          expect(resolvePort(a.container, get.port), `${label(a)}: ${probe} port`).toBe(admin);
        }
      }
    });

    it('drains an edge: node id from the pod name, preStop, grace period beyond preStop + drain', () => {
      const edge = only('edge');
      expect(edge.entries.IM_NODE_ID?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
      const preStop = preStopSeconds(edge.container);
      expect(preStop, 'preStop sleep lets the endpoints controller remove the pod first').toBeGreaterThan(0);
      const drainSeconds = configNumber(configFor(edge.env), 'IM_DRAIN_GRACE_MS') / 1000;
      const grace = edge.workload.spec.template.spec.terminationGracePeriodSeconds;
      // The kubelet counts the grace period from the start of preStop.
      expect(grace).toBeGreaterThan((preStop ?? 0) + drainSeconds);
    });

    it('gives every message replica its own IM_WORKER_ID, or none (leased from Redis)', () => {
      const message = only('message');
      const replicas = message.workload.spec.replicas ?? 1;
      const source = message.entries.IM_WORKER_ID;
      // Unset: each replica leases a free id (config.ts message.leaseWorkerId), any workload kind.
      if (source === undefined) {
        expect(configFor(message.env).message.leaseWorkerId).toBe(true);
        return;
      }
      if (source.value !== undefined) {
        expect(replicas, 'a fixed worker id only for a single replica').toBe(1);
        return;
      }
      expect(message.workload.kind).toBe('StatefulSet');
      expect(source.valueFrom?.fieldRef?.fieldPath).toBe("metadata.labels['apps.kubernetes.io/pod-index']");
    });

    it('has the PodDisruptionBudget and the HorizontalPodAutoscaler target the edge Deployment', () => {
      const edge = only('edge');
      expect(edge.workload.kind).toBe('Deployment');
      const pdbs = byKind(objects, 'PodDisruptionBudget');
      expect(pdbs.length).toBeGreaterThan(0);
      for (const pdb of pdbs) {
        expect(matches(pdb.spec.selector?.matchLabels, podLabels(edge.workload)), pdb.metadata.name).toBe(
          true,
        );
        for (const w of workloads(objects).filter((w) => w !== edge.workload)) {
          expect(
            matches(pdb.spec.selector?.matchLabels, podLabels(w)),
            `${pdb.metadata.name} vs ${w.metadata.name}`,
          ).toBe(false);
        }
      }
      const hpas = byKind(objects, 'HorizontalPodAutoscaler');
      expect(hpas).toHaveLength(1);
      const hpa = hpas[0] as K8sObject;
      expect(hpa.spec.scaleTargetRef).toMatchObject({
        kind: 'Deployment',
        name: edge.workload.metadata.name,
      });
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.maxReplicas).toBeGreaterThanOrEqual(hpa.spec.minReplicas);
      const cpu = (hpa.spec.metrics ?? []).find((m: K8sObject) => m.resource?.name === 'cpu');
      expect(cpu, 'cpu metric').toBeDefined();
      // Utilization is a percentage of the request: without one the HPA cannot scale.
      expect(edge.container.resources?.requests?.cpu).toBeDefined();
      // The HPA owns the count: a replicas field would reset it on every apply.
      expect(edge.workload.spec.replicas).toBeUndefined();
    });

    it("has every Service's targetPorts land on container ports of the pods it selects", () => {
      const services = byKind(objects, 'Service');
      expect(services.length).toBeGreaterThan(0);
      for (const svc of services) {
        const selected = apps.filter((a) => matches(svc.spec.selector, podLabels(a.workload)));
        expect(selected.length, `${svc.metadata.name} selects pods`).toBeGreaterThan(0);
        for (const p of svc.spec.ports) {
          for (const a of selected) {
            const target = resolvePort(a.container, p.targetPort ?? p.port);
            expect(target, `${svc.metadata.name}:${p.port} → ${label(a)}`).toBeDefined();
            expect(containerPorts(a.container)).toContain(target);
          }
        }
      }
      const edgeServices = services.filter((s) => ['LoadBalancer', 'NodePort'].includes(s.spec.type));
      expect(edgeServices, 'one Service exposes the edges outside the cluster').toHaveLength(1);
      const pub = edgeServices[0] as K8sObject;
      const edge = only('edge');
      // The client ports only (plain, and TLS when the edge has a certificate): never admin or gRPC.
      const ports = pub.spec.ports.map((p: K8sObject) => p.port);
      expect(ports.length).toBeGreaterThan(0);
      for (const port of ports)
        expect(clientPorts(configFor(edge.env)), `${pub.metadata.name}`).toContain(port);
      for (const p of pub.spec.ports) expect(p.protocol ?? 'TCP').toBe('TCP');
      expect(matches(pub.spec.selector, podLabels(edge.workload))).toBe(true);
    });

    it('gives a secret only to the services that read it, and only from a Secret', () => {
      for (const a of apps) {
        for (const [name, readers] of Object.entries(SECRET_READERS)) {
          const entry = a.entries[name];
          if (entry === undefined) continue;
          expect(readers, `${label(a)} (${a.kind}) gets ${name}`).toContain(a.kind);
          const fromSecret = entry.valueFrom?.secretKeyRef ?? entry.envFrom?.secretRef;
          expect(fromSecret, `${label(a)}: ${name} comes from a Secret`).toBeDefined();
        }
      }
    });

    it('has the services that share Redis, Kafka and the login keys agree on them', () => {
      expect(sharedSettingProblems(apps.map((a) => ({ label: label(a), kind: a.kind, env: a.env })))).toEqual(
        [],
      );
    });

    it('keeps the admin API inside the cluster, behind a Service of its own', () => {
      const admin = only('admin');
      const services = byKind(objects, 'Service').filter((s) =>
        matches(s.spec.selector, podLabels(admin.workload)),
      );
      expect(services.length, 'a Service selects the admin pods').toBeGreaterThan(0);
      for (const svc of services) expect(svc.spec.type ?? 'ClusterIP', svc.metadata.name).toBe('ClusterIP');
      const port = adminPort(configFor(admin.env));
      expect(
        services.flatMap((s) =>
          s.spec.ports.map((p: K8sObject) => resolvePort(admin.container, p.targetPort ?? p.port)),
        ),
      ).toContain(port);
    });

    it('has the gRPC addresses name the Service of the right service, on its port', () => {
      const services = byKind(objects, 'Service');
      for (const a of apps) {
        for (const [kind, name] of Object.entries(GRPC_ADDR_ENV) as [ClusterKind, string][]) {
          const addr = a.env[name];
          if (addr === undefined || kind === a.kind) continue;
          const svc = services.find((s) => s.metadata.name === hostOf(addr));
          expect(svc, `${label(a)}: ${name}=${addr} names a Service`).toBeDefined();
          const port = (svc?.spec.ports ?? []).find((p: K8sObject) => p.port === portOf(addr));
          expect(port, `${label(a)}: ${name} port`).toBeDefined();
          const target = only(kind);
          expect(matches(svc?.spec.selector, podLabels(target.workload)), `${name} → ${kind}`).toBe(true);
          expect(resolvePort(target.container, port?.targetPort)).toBe(
            listenPort(kind, configFor(target.env)),
          );
        }
      }
    });

    if (dir === 'deploy/base') {
      it('marks the Secret as example values', () => {
        const secrets = byKind(objects, 'Secret');
        expect(secrets.length).toBeGreaterThan(0);
        for (const s of secrets)
          expect(s.metadata.annotations?.['im-cluster/example-values']).toMatch(/^true/);
      });
    } else {
      it('puts everything in the overlay namespace and pins the image', () => {
        const ns = byKind(objects, 'Namespace');
        expect(ns).toHaveLength(1);
        for (const o of objects.filter((o) => o.kind !== 'Namespace')) {
          expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(ns[0]?.metadata.name);
        }
        const image = String(apps[0]?.container.image);
        expect(image).toMatch(/:[\w.-]+$/);
        expect(image).not.toMatch(/:latest$/);
      });
    }
  },
);
