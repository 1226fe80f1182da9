/**
 * Dockerfile and .dockerignore against the workspace: the pnpm of "packageManager", the Node of
 * "engines", the entry point and ports of the code. No Docker engine needed: the file is parsed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORTS, kindOfMain, ROOT } from './facts.js';

interface Instruction {
  op: string;
  args: string;
}

/** Instructions with line continuations joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (pending !== '' && line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = pending + line;
    pending = '';
    const m = /^(\w+)\s+(.*)$/.exec(full);
    if (m?.[1] && m[2] !== undefined) out.push({ op: m[1].toUpperCase(), args: m[2].trim() });
  }
  return out;
}

const instructions = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  packageManager: string;
  engines: { node: string };
  devDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
};
const all = (op: string) => instructions.filter((i) => i.op === op).map((i) => i.args);
const last = (op: string) => all(op).at(-1);
const execForm = (args: string | undefined) => JSON.parse(args ?? 'null') as string[];

describe('Dockerfile', () => {
  it('builds on the Node major of "engines" with the pnpm of "packageManager"', () => {
    const nodeMajor = /(\d+)/.exec(rootPkg.engines.node)?.[1];
    expect(all('FROM')).toEqual([`node:${nodeMajor}-bookworm-slim`]);
    const pnpm = rootPkg.packageManager.replace(/\+.*$/, '');
    const runs = all('RUN').join('\n');
    expect(runs).toContain(`npm install --global ${pnpm}`);
    expect(runs).toMatch(/pnpm install [^\n]*--frozen-lockfile/);
  });

  it('installs the devDependencies tsx needs to run the TypeScript sources', () => {
    expect(rootPkg.devDependencies?.tsx ?? rootPkg.dependencies?.tsx).toBeDefined();
    const install = all('RUN').find((r) => r.includes('pnpm install'));
    expect(install).toContain('--prod=false');
  });

  it('starts node --import tsx, by default the embedded server', () => {
    expect(execForm(last('ENTRYPOINT'))).toEqual(['node', '--import', 'tsx']);
    const cmd = execForm(last('CMD'));
    expect(cmd).toHaveLength(1);
    expect(kindOfMain(cmd[0])).toBe('embedded');
  });

  it('runs as a non-root user', () => {
    const user = last('USER');
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user?.split(':')[0]);
  });

  it('exposes exactly the default ports of the code', () => {
    const exposed = all('EXPOSE').flatMap((a) => a.split(/\s+/).map((p) => Number(p.split('/')[0])));
    expect(exposed.sort()).toEqual(Object.values(DEFAULT_PORTS).sort());
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('keeps host node_modules out and the workspace in', () => {
    expect(patterns).toContain('**/node_modules');
    for (const needed of [
      'package.json',
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
      'patches',
      'packages',
      'services',
    ]) {
      expect(patterns, needed).not.toContain(needed);
    }
  });
});
