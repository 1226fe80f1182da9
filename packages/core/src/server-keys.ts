/**
 * The server's RSA key pair for RSA (2) logins (protocol.md §2 RSA: 2048 bits or more, published by
 * the operator and the admin API). One object carries the private key for the edge and the public
 * forms for the admin API (`GET .../server-key`) and the CLI (`im server-key`).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { MIN_RSA_MODULUS_BITS, toPrivateKey } from '@im/protocol';
import { ConfigError } from './config.js';

export interface ServerKeys {
  /** For the edge only; never logged or served. */
  readonly privateKey: KeyObject;
  /** SPKI PEM ("-----BEGIN PUBLIC KEY-----"), what operators publish to clients. */
  readonly publicKeyPem: string;
  /** SPKI DER, the same key as bytes. */
  readonly publicKeyDer: Uint8Array;
  /** SHA-256 of the SPKI DER, hex: lets a client or operator compare keys at a glance. */
  readonly fingerprint: string;
  readonly modulusBits: number;
}

/** Builds ServerKeys from a PEM private key (PKCS#8 or PKCS#1); RSA of 2048 bits or more. */
export function serverKeysFromPem(pem: string): ServerKeys {
  const privateKey = toPrivateKey(createPrivateKey(pem));
  const publicKey = createPublicKey(privateKey);
  const der = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  return {
    privateKey,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicKeyDer: der,
    fingerprint: createHash('sha256').update(der).digest('hex'),
    modulusBits: privateKey.asymmetricKeyDetails?.modulusLength ?? 0,
  };
}

/**
 * config.serverKey: the PEM in IM_RSA_PRIVATE_KEY, else the file IM_RSA_PRIVATE_KEY_FILE, else null
 * (RSA logins are then answered UNSUPPORTED). ConfigError for a key that is unreadable or too small.
 */
export async function loadServerKeys(cfg: {
  privateKeyFile: string;
  privateKeyPem: string;
}): Promise<ServerKeys | null> {
  let pem = cfg.privateKeyPem;
  let source = 'IM_RSA_PRIVATE_KEY';
  if (!pem && cfg.privateKeyFile) {
    source = `IM_RSA_PRIVATE_KEY_FILE (${cfg.privateKeyFile})`;
    try {
      pem = await readFile(cfg.privateKeyFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`${source} cannot be read: ${(err as Error).message}`);
    }
  }
  if (!pem) return null;
  try {
    return serverKeysFromPem(pem);
  } catch (err) {
    throw new ConfigError(
      `${source} is not an RSA private key of ${MIN_RSA_MODULUS_BITS} bits or more: ${(err as Error).message}`,
    );
  }
}

/** A fresh 2048-bit key pair as PKCS#8 PEM (development: embedded mode, tests). */
export function generateServerKeyPem(modulusLength = MIN_RSA_MODULUS_BITS): Promise<string> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      'rsa',
      {
        modulusLength,
        privateKeyEncoding: { format: 'pem', type: 'pkcs8' },
        publicKeyEncoding: { format: 'pem', type: 'spki' },
      },
      (err, _publicKey, privateKey) => (err ? reject(err) : resolve(privateKey)),
    );
  });
}
