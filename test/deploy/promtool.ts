/**
 * promtool (Debian's `prometheus` package) for the monitoring tests. test/infra/start.sh installs
 * it with the other test packages; a run without it (SKIP_INFRA=1, a bare `vitest run`) installs it
 * here through scripts/lib/common.sh apt_install. Never skipped: if it cannot be had, the test fails.
 */
import { spawnSync } from 'node:child_process';
import { ROOT } from './facts.js';

const has = () => spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

/** The promtool command; installs the package when it is missing, throws when that fails. */
export function ensurePromtool(timeoutMs: number): string {
  if (has()) return 'promtool';
  const r = spawnSync('bash', ['-c', 'source scripts/lib/common.sh && apt_install prometheus'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (!has()) {
    throw new Error(
      `promtool is not installed and installing Debian's prometheus package failed (${r.status ?? r.signal}): ${r.stderr.slice(-500)}`,
    );
  }
  return 'promtool';
}

/** Runs promtool; returns its exit code and its output (stdout and stderr). */
export function promtool(args: string[]): { code: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}
