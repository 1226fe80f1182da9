/**
 * The SDK's side of protocol.md §2 frame encryption, on the primitives of a Runtime (so the
 * Node and browser builds put the same bytes on the wire; both are checked against the shared
 * vectors of packages/protocol/test/vectors):
 *
 *   session keys   HKDF-SHA256(secret, salt = empty, info "im c2s" / "im s2c"), 32 bytes each
 *   AES (1) body   nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16), AAD = header bytes 4..11
 *   RSA (2) body   keyLen (u16 BE) ‖ RSA-OAEP-SHA256(secret) ‖ AES-256-GCM with the secret itself
 */
import {
  type AadFields,
  AES_KEY_LENGTH,
  frameAad,
  HKDF_INFO_C2S,
  HKDF_INFO_S2C,
  RSA_KEY_LENGTH_FIELD,
  SESSION_SECRET_LENGTH,
} from '@im/protocol/portable';
import type { Awaitable, PublicKeyInput, Runtime } from './runtime.js';

/** One side of an encrypted connection: seals with its direction's key, opens with the other's. */
export interface FrameCipher {
  /** `header.flag` must already carry the encrypt bits it is sent with: the flag is authenticated. */
  seal(header: AadFields, body: Uint8Array, nonce?: Uint8Array): Awaitable<Uint8Array>;
  /** DecryptError when the body or any authenticated header byte was changed. */
  open(header: AadFields, body: Uint8Array): Awaitable<Uint8Array>;
}

/** The cipher of a session secret; `role` says which key seals (the SDK is the client). */
export async function sessionCipher(
  runtime: Runtime,
  secret: Uint8Array,
  role: 'client' | 'server' = 'client',
): Promise<FrameCipher> {
  if (secret.length !== SESSION_SECRET_LENGTH) {
    throw new RangeError(`the session secret must be ${SESSION_SECRET_LENGTH} bytes, got ${secret.length}`);
  }
  const [c2s, s2c] = await Promise.all([
    runtime.hkdfSha256(secret, HKDF_INFO_C2S, AES_KEY_LENGTH),
    runtime.hkdfSha256(secret, HKDF_INFO_S2C, AES_KEY_LENGTH),
  ]);
  const [send, receive] = await Promise.all([
    runtime.aesGcm(role === 'client' ? c2s : s2c),
    runtime.aesGcm(role === 'client' ? s2c : c2s),
  ]);
  return {
    seal: (header, body, nonce) => send.seal(frameAad(header), body, nonce),
    open: (header, body) => receive.open(frameAad(header), body),
  };
}

export interface RsaSealOptions {
  /** Default: 32 fresh random bytes. */
  secret?: Uint8Array;
  /** Default: 12 fresh random bytes (fixed only in test vectors). */
  nonce?: Uint8Array;
}

/** An RSA (2) body sealing `plaintext` to the server's key; returns it and the secret it carries. */
export async function rsaSeal(
  runtime: Runtime,
  serverKey: PublicKeyInput,
  aad: Uint8Array,
  plaintext: Uint8Array,
  opts: RsaSealOptions = {},
): Promise<{ body: Uint8Array; secret: Uint8Array }> {
  const secret = opts.secret ?? runtime.randomBytes(SESSION_SECRET_LENGTH);
  if (secret.length !== SESSION_SECRET_LENGTH) throw new RangeError('the session secret must be 32 bytes');
  const wrapped = await runtime.oaepEncrypt(serverKey, secret);
  const sealed = await (await runtime.aesGcm(secret)).seal(aad, plaintext, opts.nonce);
  const body = new Uint8Array(RSA_KEY_LENGTH_FIELD + wrapped.length + sealed.length);
  new DataView(body.buffer).setUint16(0, wrapped.length);
  body.set(wrapped, RSA_KEY_LENGTH_FIELD);
  body.set(sealed, RSA_KEY_LENGTH_FIELD + wrapped.length);
  return { body, secret };
}
