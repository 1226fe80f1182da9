/**
 * The server's RSA public key for RSA (2) logins (protocol.md §2 RSA), as the CLI finds it: `--server-key FILE`
 * (a public or private PEM), else IM_RSA_PRIVATE_KEY / IM_RSA_PRIVATE_KEY_FILE (the server's own
 * config), else `<IM_DATA_DIR or .data>/dev-rsa-key.pem`, the key embedded mode generates.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CliError } from './io.js';

export const DEV_SERVER_KEY_FILE = 'dev-rsa-key.pem';

type Env = Record<string, string | undefined>;

export interface FoundKey {
  publicKey: KeyObject;
  /** Where it came from, for the user. */
  source: string;
}

export async function findServerKey(file: string | undefined, env: Env): Promise<FoundKey> {
  if (file) return { publicKey: await readKey(file), source: file };
  if (env.IM_RSA_PRIVATE_KEY)
    return {
      publicKey: toPublic(env.IM_RSA_PRIVATE_KEY, 'IM_RSA_PRIVATE_KEY'),
      source: 'IM_RSA_PRIVATE_KEY',
    };
  if (env.IM_RSA_PRIVATE_KEY_FILE) {
    return { publicKey: await readKey(env.IM_RSA_PRIVATE_KEY_FILE), source: env.IM_RSA_PRIVATE_KEY_FILE };
  }
  const dev = resolve(join(env.IM_DATA_DIR || '.data', DEV_SERVER_KEY_FILE));
  try {
    return { publicKey: await readKey(dev), source: dev };
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    throw new CliError(
      `no server key: pass --server-key FILE, set IM_RSA_PRIVATE_KEY_FILE, or start the embedded server once so it writes ${dev}`,
    );
  }
}

async function readKey(path: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read the server key ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return toPublic(pem, path);
}

/** A public key from a public or private PEM (the public half only is ever used or printed). */
function toPublic(pem: string, source: string): KeyObject {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`a ${key.asymmetricKeyType} key, not RSA`);
    return key;
  } catch (err) {
    throw new CliError(`${source} is not an RSA key: ${(err as Error).message}`);
  }
}

/** SHA-256 of the SPKI DER, hex (the fingerprint the server logs at start). */
export function fingerprint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ format: 'der', type: 'spki' }))
    .digest('hex');
}
