/**
 * Development JWT secret of embedded mode: when IM_JWT_SECRET is not set, a random secret is
 * kept in `<dataDir>/dev-jwt-secret` (mode 0600), created on first start and reused after, so
 * tokens survive a restart and the CLI (`pnpm im token <user>`) can sign with the same file.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DEV_SECRET_FILE = 'dev-jwt-secret';
/** The admin API's bearer secret when IM_ADMIN_SECRET is not set (the CLI reads it too). */
export const DEV_ADMIN_SECRET_FILE = 'dev-admin-secret';

export function devSecretPath(dataDir: string, file = DEV_SECRET_FILE): string {
  return join(dataDir, file);
}

/** Reads the secret file (default: the JWT secret), or creates it; `created` says which. */
export async function readOrCreateDevSecret(
  dataDir: string,
  file = DEV_SECRET_FILE,
): Promise<{ secret: string; path: string; created: boolean }> {
  const path = devSecretPath(dataDir, file);
  try {
    const secret = (await readFile(path, 'utf8')).trim();
    if (secret) return { secret, path, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  // 'wx': never overwrite a file another process created meanwhile.
  try {
    await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readOrCreateDevSecret(dataDir, file);
    throw err;
  }
  await chmod(path, 0o600);
  return { secret, path, created: true };
}
