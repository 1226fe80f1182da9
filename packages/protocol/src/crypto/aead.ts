/**
 * AES-256-GCM over one frame body (protocol.md §2 AES): body = nonce (12) ‖ ciphertext ‖ tag (16),
 * additional authenticated data = header bytes 4..11 as sent, so a changed version, seq, command,
 * flag or status makes the tag check fail (the AAD: aad.ts). node:crypto only.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AES_KEY_LENGTH, AES_OVERHEAD, GCM_NONCE_LENGTH, GCM_TAG_LENGTH } from './constants.js';
import { DecryptError } from './errors.js';

function checkKey(key: Uint8Array): void {
  if (key.length !== AES_KEY_LENGTH) throw new RangeError(`AES-256 needs a ${AES_KEY_LENGTH}-byte key`);
}

/** nonce ‖ AES-256-GCM(key, nonce, aad, plaintext) ‖ tag. `nonce` is random unless given (test vectors). */
export function aesSeal(
  key: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  nonce: Uint8Array = randomBytes(GCM_NONCE_LENGTH),
): Uint8Array {
  checkKey(key);
  if (nonce.length !== GCM_NONCE_LENGTH) throw new RangeError(`the nonce must be ${GCM_NONCE_LENGTH} bytes`);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_LENGTH });
  cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  const tag = cipher.getAuthTag();
  const out = new Uint8Array(GCM_NONCE_LENGTH + head.length + tail.length + GCM_TAG_LENGTH);
  out.set(nonce, 0);
  out.set(head, GCM_NONCE_LENGTH);
  out.set(tail, GCM_NONCE_LENGTH + head.length);
  out.set(tag, out.length - GCM_TAG_LENGTH);
  return out;
}

/** The plaintext of a sealed body; DecryptError when it is too short or does not authenticate. */
export function aesOpen(key: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  checkKey(key);
  if (sealed.length < AES_OVERHEAD) {
    throw new DecryptError(`an encrypted body needs at least ${AES_OVERHEAD} bytes, got ${sealed.length}`);
  }
  const nonce = sealed.subarray(0, GCM_NONCE_LENGTH);
  const tag = sealed.subarray(sealed.length - GCM_TAG_LENGTH);
  const ciphertext = sealed.subarray(GCM_NONCE_LENGTH, sealed.length - GCM_TAG_LENGTH);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_LENGTH });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const head = decipher.update(ciphertext);
    const tail = decipher.final();
    const out = new Uint8Array(head.length + tail.length);
    out.set(head, 0);
    out.set(tail, head.length);
    return out;
  } catch (err) {
    throw new DecryptError('the frame does not authenticate (wrong key, or header or body altered)', err);
  }
}
