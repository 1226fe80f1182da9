/**
 * The frame-encryption vectors (crypto.json, protocol.md §2), shared by the protocol package, the
 * SDK and the edge tests. Written by scripts/gen-crypto-vectors.ts; the RSA key in it is for tests only.
 */
import { readFileSync } from 'node:fs';

export interface AesVector {
  name: string;
  direction: 'c2s' | 's2c';
  /** Hex of the body before sealing. */
  plaintext: string;
  /** Hex of the whole frame as it travels. */
  frame: string;
}

export interface CryptoVectors {
  description: string;
  secret: string;
  c2s: string;
  s2c: string;
  nonce: string;
  aes: AesVector[];
  rsa: { name: string; privateKeyPem: string; plaintext: string; frame: string };
}

export function loadCryptoVectors(): CryptoVectors {
  return JSON.parse(readFileSync(new URL('./crypto.json', import.meta.url), 'utf8')) as CryptoVectors;
}
