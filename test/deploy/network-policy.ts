/**
 * Kubernetes NetworkPolicy semantics, enough to ask of rendered manifests "may this peer open a
 * connection to that pod's port?" (networking.k8s.io/v1): a pod selected by a policy of a type is
 * isolated for that type, and then only what some such policy's rules allow gets through; a
 * connection needs the source's egress and the destination's ingress. Named ports resolve against
 * the destination pod's containers. matchExpressions are not used by deploy/ and are refused here.
 */
import type { K8sObject } from './kustomize-render.js';

export interface PodPeer {
  kind: 'pod';
  name: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  labels: Record<string, string>;
  /** Container ports (name and number) of the pod. */
  ports: { name?: string; containerPort: number; protocol?: string }[];
}

/** An address outside the cluster (a client, a managed backend). IPv4 only. */
export interface IpPeer {
  kind: 'ip';
  name: string;
  ip: string;
}

export type Peer = PodPeer | IpPeer;

type Labels = Record<string, string>;

function selects(selector: K8sObject | undefined, labels: Labels): boolean {
  if (selector?.matchExpressions) throw new Error('matchExpressions are not modelled by this test helper');
  return Object.entries<string>(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

function ipv4(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return parts.reduce((n, p) => n * 256 + p, 0);
}

function inCidr(ip: string, cidr: string): boolean {
  if (cidr.includes(':')) return false; // an IPv6 block never holds an IPv4 address
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base as string) / size);
}

const namespaceOf = (policy: K8sObject): string => policy.metadata?.namespace ?? 'default';

function policySelects(policy: K8sObject, pod: PodPeer): boolean {
  return namespaceOf(policy) === pod.namespace && selects(policy.spec?.podSelector, pod.labels);
}

function types(policy: K8sObject): string[] {
  return policy.spec?.policyTypes ?? (policy.spec?.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

function peerMatches(rulePeer: K8sObject, peer: Peer, policyNamespace: string): boolean {
  if (rulePeer.ipBlock) {
    if (peer.kind !== 'ip') return false;
    const except: string[] = rulePeer.ipBlock.except ?? [];
    return inCidr(peer.ip, rulePeer.ipBlock.cidr) && !except.some((c) => inCidr(peer.ip, c));
  }
  if (peer.kind !== 'pod') return false;
  const ns = rulePeer.namespaceSelector;
  const nsOk = ns ? selects(ns, peer.namespaceLabels) : peer.namespace === policyNamespace;
  const podOk = rulePeer.podSelector ? selects(rulePeer.podSelector, peer.labels) : true;
  return nsOk && podOk;
}

function portMatches(
  rulePorts: K8sObject[] | undefined,
  port: number,
  protocol: string,
  dest: Peer,
): boolean {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'number') return p.endPort ? port >= p.port && port <= p.endPort : port === p.port;
    // A named port means the destination pod's container port of that name.
    if (dest.kind !== 'pod') return false;
    return dest.ports.some((c) => c.name === p.port && c.containerPort === port);
  });
}

function ruleAllows(
  rule: K8sObject,
  peers: K8sObject[] | undefined,
  other: Peer,
  port: number,
  protocol: string,
  dest: Peer,
  policyNamespace: string,
): boolean {
  const peerOk = !peers || peers.length === 0 || peers.some((p) => peerMatches(p, other, policyNamespace));
  return peerOk && portMatches(rule.ports, port, protocol, dest);
}

/** May `src` open a connection to `dst` on `port`/`protocol` under these policies? */
export function allowed(
  policies: K8sObject[],
  src: Peer,
  dst: Peer,
  port: number,
  protocol: 'TCP' | 'UDP' = 'TCP',
): boolean {
  const side = (pod: Peer, type: 'Ingress' | 'Egress', other: Peer): boolean => {
    if (pod.kind !== 'pod') return true; // outside the cluster: no policy applies
    const mine = policies.filter((p) => policySelects(p, pod) && types(p).includes(type));
    if (mine.length === 0) return true; // not isolated for this direction
    return mine.some((p) =>
      type === 'Ingress'
        ? (p.spec?.ingress ?? []).some((r: K8sObject) =>
            ruleAllows(r, r.from, other, port, protocol, pod, namespaceOf(p)),
          )
        : (p.spec?.egress ?? []).some((r: K8sObject) =>
            ruleAllows(r, r.to, other, port, protocol, dst, namespaceOf(p)),
          ),
    );
  };
  return side(src, 'Egress', dst) && side(dst, 'Ingress', src);
}

/** A workload's pods as a peer (labels and ports from its pod template). */
export function workloadPeer(workload: K8sObject): PodPeer {
  const namespace = workload.metadata?.namespace ?? 'default';
  return {
    kind: 'pod',
    name: `${workload.kind}/${workload.metadata.name}`,
    namespace,
    namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
    labels: workload.spec?.template?.metadata?.labels ?? {},
    ports: (workload.spec?.template?.spec?.containers ?? []).flatMap((c: K8sObject) => c.ports ?? []),
  };
}

/** A pod of some other workload, in any namespace. */
export function otherPod(
  name: string,
  namespace: string,
  labels: Labels = {},
  ports: PodPeer['ports'] = [],
): PodPeer {
  return {
    kind: 'pod',
    name,
    namespace,
    namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
    labels,
    ports,
  };
}
