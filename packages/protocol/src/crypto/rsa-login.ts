/**
 * The RSA (2) frame of protocol.md §2, used for LOGIN: hybrid encryption to the server's key.
 *
 *   body = keyLen (u16 BE) ‖ RSA-OAEP-SHA256(secret) ‖ nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16)
 *
 * The AES key of this one frame is the 32-byte session secret itself; the AAD is header bytes 4..11
 * as for AES frames. The same secret, through HKDF, gives the per-direction keys of the session.
 */
import { randomBytes } from 'node:crypto';
import { aesOpen, aesSeal } from './aead.js';
import { AES_OVERHEAD, RSA_KEY_LENGTH_FIELD, SESSION_SECRET_LENGTH } from './constants.js';
import { DecryptError } from './errors.js';
import {
  oaepDecrypt,
  oaepEncrypt,
  type PrivateKeyInput,
  type PublicKeyInput,
  toPrivateKey,
  toPublicKey,
} from './rsa.js';

export interface RsaSealOptions {
  /** Default: 32 fresh random bytes. */
  secret?: Uint8Array;
  /** Default: 12 fresh random bytes (fixed only in test vectors). */
  nonce?: Uint8Array;
}

export function newSessionSecret(): Uint8Array {
  return new Uint8Array(randomBytes(SESSION_SECRET_LENGTH));
}

/** Seals `plaintext` for the server; returns the body and the secret it carries. */
export function rsaSeal(
  serverKey: PublicKeyInput,
  aad: Uint8Array,
  plaintext: Uint8Array,
  opts: RsaSealOptions = {},
): { body: Uint8Array; secret: Uint8Array } {
  const secret = opts.secret ?? newSessionSecret();
  if (secret.length !== SESSION_SECRET_LENGTH) throw new RangeError('the session secret must be 32 bytes');
  const wrapped = oaepEncrypt(toPublicKey(serverKey), secret);
  const sealed = aesSeal(secret, aad, plaintext, opts.nonce);
  const body = new Uint8Array(RSA_KEY_LENGTH_FIELD + wrapped.length + sealed.length);
  new DataView(body.buffer).setUint16(0, wrapped.length);
  body.set(wrapped, RSA_KEY_LENGTH_FIELD);
  body.set(sealed, RSA_KEY_LENGTH_FIELD + wrapped.length);
  return { body, secret };
}

/** Opens an RSA (2) body with the server's private key; DecryptError for anything malformed. */
export function rsaOpen(
  serverKey: PrivateKeyInput,
  aad: Uint8Array,
  body: Uint8Array,
): { plaintext: Uint8Array; secret: Uint8Array } {
  if (body.length < RSA_KEY_LENGTH_FIELD) throw new DecryptError('an RSA body needs a key length');
  const keyLen = new DataView(body.buffer, body.byteOffset, body.length).getUint16(0);
  if (body.length < RSA_KEY_LENGTH_FIELD + keyLen + AES_OVERHEAD) {
    throw new DecryptError(`an RSA body with a ${keyLen}-byte key block is too short (${body.length} bytes)`);
  }
  const key = toPrivateKey(serverKey);
  const block = body.subarray(RSA_KEY_LENGTH_FIELD, RSA_KEY_LENGTH_FIELD + keyLen);
  const secret = oaepDecrypt(key, block);
  if (secret.length !== SESSION_SECRET_LENGTH) {
    throw new DecryptError(`the RSA key block carries ${secret.length} bytes; a 32-byte secret is required`);
  }
  const plaintext = aesOpen(secret, aad, body.subarray(RSA_KEY_LENGTH_FIELD + keyLen));
  return { plaintext, secret };
}
