/**
 * Renders a kustomization the way `kubectl apply -k` would, with whichever tool this machine has:
 * $KUBECTL, `kubectl kustomize`, or the standalone `kustomize build`.
 */
import { spawnSync } from 'node:child_process';
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

export function findRenderer(): Renderer | undefined {
  const kubectl = process.env.KUBECTL || 'kubectl';
  if (works(kubectl, ['version', '--client'])) {
    return { describe: `${kubectl} kustomize`, render: (dir) => run(kubectl, ['kustomize', dir]) };
  }
  if (works('kustomize', ['version'])) {
    return { describe: 'kustomize build', render: (dir) => run('kustomize', ['build', dir]) };
  }
  return undefined;
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
