/** Reading rendered Kubernetes objects: workloads, their effective env, ports and selectors. */
import type { K8sObject } from './kustomize-render.js';

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet'];

export function byKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata?.name === name);
}

export function workloads(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));
}

export function containersOf(workload: K8sObject): K8sObject[] {
  return workload.spec?.template?.spec?.containers ?? [];
}

export function podLabels(workload: K8sObject): Record<string, string> {
  return workload.spec?.template?.metadata?.labels ?? {};
}

export function matches(
  selector: Record<string, string> | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A Service/probe port (number or container port name) → the container port number. */
export function resolvePort(container: K8sObject, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  const named = (container.ports ?? []).find((p: K8sObject) => p.name === port);
  return named?.containerPort;
}

export function containerPorts(container: K8sObject): number[] {
  return (container.ports ?? []).map((p: K8sObject) => p.containerPort);
}

function dataOf(obj: K8sObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries<string>(obj.data ?? {})) {
    out[k] = obj.kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
  }
  for (const [k, v] of Object.entries<string>(obj.stringData ?? {})) out[k] = v;
  return out;
}

export interface EffectiveEnv {
  /** Name → value the process sees (downward-API fields get a stand-in value). */
  env: Record<string, string>;
  /** Name → the env entry itself, for checks on where a value comes from. */
  entries: Record<string, K8sObject>;
  /** References to ConfigMaps/Secrets/keys that do not exist in the rendered output. */
  problems: string[];
}

/** Stand-ins for downward-API fields, shaped like what the kubelet would put there. */
function fieldValue(workload: K8sObject, fieldPath: string): string {
  if (fieldPath === 'metadata.name') return `${workload.metadata.name}-0`;
  if (fieldPath === "metadata.labels['apps.kubernetes.io/pod-index']") return '0';
  return `<${fieldPath}>`;
}

/** env + envFrom as the kubelet merges them: envFrom in order, then env wins. */
export function effectiveEnv(objects: K8sObject[], workload: K8sObject, container: K8sObject): EffectiveEnv {
  const env: Record<string, string> = {};
  const entries: Record<string, K8sObject> = {};
  const problems: string[] = [];
  const lookup = (kind: string, name: string): Record<string, string> | undefined => {
    const obj = find(objects, kind, name);
    if (!obj) problems.push(`${container.name}: ${kind} ${name} does not exist`);
    return obj ? dataOf(obj) : undefined;
  };
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ? ['ConfigMap', from.configMapRef.name] : ['Secret', from.secretRef?.name];
    const data = lookup(ref[0] as string, ref[1] as string) ?? {};
    for (const [k, v] of Object.entries(data)) {
      env[`${from.prefix ?? ''}${k}`] = v;
      entries[`${from.prefix ?? ''}${k}`] = { envFrom: from };
    }
  }
  for (const e of container.env ?? []) {
    entries[e.name] = e;
    if (e.value !== undefined) {
      env[e.name] = String(e.value);
      continue;
    }
    const vf = e.valueFrom ?? {};
    const keyRef = vf.configMapKeyRef
      ? (['ConfigMap', vf.configMapKeyRef] as const)
      : vf.secretKeyRef
        ? (['Secret', vf.secretKeyRef] as const)
        : undefined;
    if (keyRef) {
      const value = lookup(keyRef[0], keyRef[1].name)?.[keyRef[1].key];
      if (value === undefined) problems.push(`${container.name}: ${e.name} → missing key ${keyRef[1].key}`);
      else env[e.name] = value;
    } else if (vf.fieldRef) {
      env[e.name] = fieldValue(workload, vf.fieldRef.fieldPath);
    } else {
      problems.push(`${container.name}: ${e.name} has neither value nor a known valueFrom`);
    }
  }
  return { env, entries, problems };
}

/** Seconds a preStop hook holds the pod before SIGTERM (`sleep N` exec or the native sleep action). */
export function preStopSeconds(container: K8sObject): number | undefined {
  const hook = container.lifecycle?.preStop;
  if (!hook) return undefined;
  if (hook.sleep?.seconds !== undefined) return Number(hook.sleep.seconds);
  const cmd: string[] = hook.exec?.command ?? [];
  const sleepAt = cmd.findIndex((c) => c === 'sleep' || c.endsWith('/sleep'));
  return sleepAt >= 0 ? Number(cmd[sleepAt + 1]) : undefined;
}
