/**
 * Renders a kustomization the way `kubectl apply -k` would, with whichever tool this machine has:
 * $KUBECTL, `kubectl kustomize`, or the standalone `kustomize build` — and on a machine with
 * neither, kustomize built from its Go module into .tools/ (git-ignored) on first use, so the
 * manifests are always rendered (a skip would let them drift unseen).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './facts.js';

export interface Renderer {
  /** What runs, for messages. */
  describe: string;
  render(dir: string): string;
}

function works(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0;
}

/** The pinned standalone kustomize (a Go module) built when the machine has no renderer. */
export const KUSTOMIZE_MODULE = 'sigs.k8s.io/kustomize/kustomize/v5';
export const KUSTOMIZE_VERSION = 'v5.8.1';
const TOOLS_BIN = join(ROOT, '.tools', `kustomize-${KUSTOMIZE_VERSION}`);

export function findRenderer(): Renderer | undefined {
  const kubectl = process.env.KUBECTL || 'kubectl';
  if (works(kubectl, ['version', '--client'])) {
    return { describe: `${kubectl} kustomize`, render: (dir) => run(kubectl, ['kustomize', dir]) };
  }
  for (const kustomize of ['kustomize', join(TOOLS_BIN, 'kustomize')]) {
    if (works(kustomize, ['version'])) {
      return { describe: `${kustomize} build`, render: (dir) => run(kustomize, ['build', dir]) };
    }
  }
  return undefined;
}

/** A renderer; installs the pinned kustomize with `go install` when there is none (about a minute). */
export function ensureRenderer(): Renderer {
  const found = findRenderer();
  if (found) return found;
  const go = ['go', '/usr/local/go/bin/go'].find((g) => works(g, ['version']));
  if (!go) {
    throw new Error(
      `neither kubectl (or $KUBECTL), kustomize nor Go is on this machine: install one of them to render deploy/ (Go: ${KUSTOMIZE_MODULE}@${KUSTOMIZE_VERSION} is built into .tools/)`,
    );
  }
  const r = spawnSync(go, ['install', `${KUSTOMIZE_MODULE}@${KUSTOMIZE_VERSION}`], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, GOBIN: TOOLS_BIN, GOFLAGS: '-buildvcs=false' },
  });
  const bin = join(TOOLS_BIN, 'kustomize');
  if (r.status !== 0 || !existsSync(bin)) {
    throw new Error(
      `go install ${KUSTOMIZE_MODULE}@${KUSTOMIZE_VERSION} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`,
    );
  }
  return { describe: `${bin} build`, render: (dir) => run(bin, ['build', dir]) };
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`,
    );
  }
  return r.stdout;
}

// biome-ignore lint/suspicious/noExplicitAny: rendered Kubernetes objects are checked field by field.
export type K8sObject = Record<string, any>;

export function renderObjects(renderer: Renderer, dir: string): K8sObject[] {
  const docs = parseAllDocuments(renderer.render(join(ROOT, dir)));
  return docs.flatMap((doc) => {
    if (doc.errors.length > 0) throw doc.errors[0];
    const obj = doc.toJS() as K8sObject | null;
    return obj ? [obj] : [];
  });
}
