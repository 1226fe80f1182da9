/**
 * Development RSA key of embedded mode (protocol.md §2 RSA): when neither IM_RSA_PRIVATE_KEY nor
 * IM_RSA_PRIVATE_KEY_FILE is set, a 2048-bit key is kept in `<dataDir>/dev-rsa-key.pem` (mode
 * 0600), created on first start and reused after, so clients that pinned its public key keep
 * working and `im server-key` can print it.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateServerKeyPem, type ServerKeys, serverKeysFromPem } from '@im/core';

export const DEV_SERVER_KEY_FILE = 'dev-rsa-key.pem';

export function devServerKeyPath(dataDir: string): string {
  return join(dataDir, DEV_SERVER_KEY_FILE);
}

export async function readOrCreateDevServerKeys(
  dataDir: string,
): Promise<{ keys: ServerKeys; path: string; created: boolean }> {
  const path = devServerKeyPath(dataDir);
  try {
    const pem = await readFile(path, 'utf8');
    if (pem.trim()) return { keys: serverKeysFromPem(pem), path, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const pem = await generateServerKeyPem();
  try {
    // 'wx': never overwrite a key another process created meanwhile.
    await writeFile(path, pem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readOrCreateDevServerKeys(dataDir);
    throw err;
  }
  await chmod(path, 0o600);
  return { keys: serverKeysFromPem(pem), path, created: true };
}
