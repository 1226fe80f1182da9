/**
 * RSA-OAEP with SHA-256 for both the hash and MGF1 (protocol.md §2 RSA: Node's
 * `oaepHash: 'sha256'`). PKCS#1 v1.5 padding is never used: its decryption oracle (Bleichenbacher)
 * is exactly what a server that answers "bad padding" differently would expose.
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
} from 'node:crypto';
import { MIN_RSA_MODULUS_BITS } from './constants.js';
import { DecryptError } from './errors.js';

/** A public key as a KeyObject, PEM (SPKI or PKCS#1) or SPKI DER bytes. */
export type PublicKeyInput = KeyObject | string | Uint8Array;
/** A private key as a KeyObject or PEM (PKCS#8 or PKCS#1). */
export type PrivateKeyInput = KeyObject | string;

export function toPublicKey(key: PublicKeyInput): KeyObject {
  let k: KeyObject;
  if (typeof key === 'string') k = createPublicKey(key);
  else if (key instanceof Uint8Array)
    k = createPublicKey({ key: Buffer.from(key), format: 'der', type: 'spki' });
  else k = key.type === 'private' ? createPublicKey(key) : key;
  return checkRsa(k);
}

export function toPrivateKey(key: PrivateKeyInput): KeyObject {
  const k = typeof key === 'string' ? createPrivateKey(key) : key;
  if (k.type !== 'private') throw new TypeError('an RSA private key is needed');
  return checkRsa(k);
}

function checkRsa(k: KeyObject): KeyObject {
  if (k.asymmetricKeyType !== 'rsa') {
    throw new TypeError(`an RSA key is needed, got ${k.asymmetricKeyType ?? k.type}`);
  }
  const bits = k.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_MODULUS_BITS) {
    throw new RangeError(`the RSA key has ${bits} bits; at least ${MIN_RSA_MODULUS_BITS} are required`);
  }
  return k;
}

/** The SPKI DER of a public key (what LoginRequest.publicKey and the admin API carry). */
export function publicKeyDer(key: PublicKeyInput): Uint8Array {
  return new Uint8Array(toPublicKey(key).export({ format: 'der', type: 'spki' }));
}

export function oaepEncrypt(key: KeyObject, plaintext: Uint8Array): Uint8Array {
  return new Uint8Array(
    publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plaintext),
  );
}

/** DecryptError for anything that is not an OAEP-SHA256 block for this key. */
export function oaepDecrypt(key: KeyObject, block: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(
      privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, block),
    );
  } catch (err) {
    throw new DecryptError('the RSA-OAEP key block does not decrypt with this key', err);
  }
}
