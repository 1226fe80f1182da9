/**
 * protocol.md §2 AES: from the 32-byte session secret, HKDF-SHA256 with an empty salt derives one
 * AES-256 key per direction. Two keys, so a frame can never be reflected back at its sender and the
 * random nonces of the two directions never share a key.
 */
import { hkdfSync } from 'node:crypto';
import { AES_KEY_LENGTH, HKDF_INFO_C2S, HKDF_INFO_S2C, SESSION_SECRET_LENGTH } from './constants.js';

export interface SessionKeys {
  /** Client → server frames. */
  c2s: Uint8Array;
  /** Server → client frames. */
  s2c: Uint8Array;
}

export function deriveSessionKeys(secret: Uint8Array): SessionKeys {
  if (secret.length !== SESSION_SECRET_LENGTH) {
    throw new RangeError(`the session secret must be ${SESSION_SECRET_LENGTH} bytes, got ${secret.length}`);
  }
  const derive = (info: string) =>
    new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), info, AES_KEY_LENGTH));
  return { c2s: derive(HKDF_INFO_C2S), s2c: derive(HKDF_INFO_S2C) };
}
