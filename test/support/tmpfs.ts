/**
 * A small tmpfs for fault tests (a disk that fills up, a read-only data directory). Mounting needs
 * root, which CI and this project's machines have; elsewhere the test says why it is skipped.
 */
import { execFileSync } from 'node:child_process';

/** Mounts a tmpfs on dir with the given options (e.g. 'size=2m' or 'ro,size=1m'); the reason it could not, or null. */
export function mountTmpfs(dir: string, options: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return null;
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return `cannot mount a tmpfs on ${dir}: ${stderr || (err as Error).message}`;
  }
}

export function unmount(dir: string): void {
  execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
}
