/**
 * What the SDK needs of its runtime, so the core (connection.ts, client.ts, e2e.ts) never imports
 * `node:*` (STYLE.md 8): the default connector, random bytes, the primitives of protocol.md §2
 * (HKDF-SHA256, AES-256-GCM, RSA-OAEP-SHA256) and gzip inflation. Two builds:
 * runtime.node.ts (node:net/tls, node:crypto, node:zlib: synchronous) and runtime.web.ts
 * (WebSocket, WebCrypto, DecompressionStream: asynchronous). The formats built on these
 * primitives (session keys, the RSA LOGIN body, the end-to-end content) live once, in the core.
 */
import type { Connector } from './transport.js';

/** A value now (the Node build), or later (the browser build). */
export type Awaitable<T> = T | Promise<T>;

/**
 * A public RSA key: PEM (SPKI; PKCS#1 too on Node), SPKI DER bytes, or the runtime's own key
 * object (a node:crypto KeyObject, a WebCrypto CryptoKey).
 */
export type PublicKeyInput = string | Uint8Array | object;
/**
 * A private RSA key: PEM (PKCS#8; PKCS#1 too on Node), or the runtime's own key object (a
 * node:crypto KeyObject; in a browser an extractable CryptoKey or a CryptoKeyPair).
 */
export type PrivateKeyInput = string | object;

/** One AES-256-GCM key ready for many frames (protocol.md §2 AES). */
export interface AesGcmKey {
  /** nonce (12) ‖ ciphertext ‖ tag (16); the nonce is random unless given (test vectors only). */
  seal(aad: Uint8Array, plaintext: Uint8Array, nonce?: Uint8Array): Awaitable<Uint8Array>;
  /** The plaintext, or DecryptError (too short, or it does not authenticate). */
  open(aad: Uint8Array, sealed: Uint8Array): Awaitable<Uint8Array>;
}

export interface Runtime {
  /** Which build: 'node' or 'web' (logs, tests). */
  readonly name: string;
  /** How ImClient and Connection.open reach a server unless told otherwise. */
  readonly connector: Connector;
  randomBytes(length: number): Uint8Array;
  /** HKDF-SHA256 with an empty salt (protocol.md §2 AES: one key per direction). */
  hkdfSha256(secret: Uint8Array, info: string, length: number): Awaitable<Uint8Array>;
  /** A 32-byte AES-256-GCM key. */
  aesGcm(key: Uint8Array): Awaitable<AesGcmKey>;
  /** RSA-OAEP with SHA-256 for the hash and MGF1; a key under 2048 bits is refused. */
  oaepEncrypt(key: PublicKeyInput, data: Uint8Array): Awaitable<Uint8Array>;
  /** DecryptError when the block is not OAEP-SHA256 for this key. */
  oaepDecrypt(key: PrivateKeyInput, block: Uint8Array): Awaitable<Uint8Array>;
  /** The SPKI DER of a key's public half (LoginRequest.publicKey). */
  publicKeyDer(key: PublicKeyInput | PrivateKeyInput): Awaitable<Uint8Array>;
  /**
   * Inflates a gzip body, producing at most maxLength bytes (protocol.md §1: the limit applies
   * after decompression): BodyTooLargeError past it, ImError(BAD_REQUEST) for a corrupt body.
   */
  gunzip(body: Uint8Array, maxLength: number): Awaitable<Uint8Array>;
}

export function isPromise<T>(v: Awaitable<T>): v is Promise<T> {
  return typeof (v as Promise<T> | null)?.then === 'function';
}
