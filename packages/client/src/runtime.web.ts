/**
 * The browser build's Runtime: WebSocket (transport.ws.ts), WebCrypto (`crypto.subtle`) and
 * DecompressionStream — all standard in browsers and in Node 24, so the same tests run it in Node.
 * No `node:` import here or below.
 *
 * Keys: PEM text (SPKI "PUBLIC KEY", PKCS#8 "PRIVATE KEY", or PKCS#1 "RSA PUBLIC/PRIVATE KEY",
 * wrapped here into SPKI/PKCS#8), SPKI DER bytes, a CryptoKey, or a CryptoKeyPair. A public half is
 * derived from a private key through its JWK, so a private key must be extractable for that.
 */
import {
  AES_OVERHEAD,
  BodyTooLargeError,
  DecryptError,
  GCM_NONCE_LENGTH,
  GCM_TAG_LENGTH,
  ImError,
  MIN_RSA_MODULUS_BITS,
  Status,
} from '@im/protocol/portable';
import type { AesGcmKey, PrivateKeyInput, PublicKeyInput, Runtime } from './runtime.js';
import { webSocketConnector } from './transport.ws.js';

const OAEP = { name: 'RSA-OAEP', hash: 'SHA-256' } as const;
const utf8 = new TextEncoder();

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('WebCrypto (crypto.subtle) is not available: a secure context (https) is needed');
  return s;
}

/** WebCrypto takes BufferSource; a view is passed as its own bytes (no shared-buffer surprises). */
function buf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}

function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65536 bytes per call.
  for (let at = 0; at < length; at += 65536) globalThis.crypto.getRandomValues(out.subarray(at, at + 65536));
  return out;
}

async function aesGcm(raw: Uint8Array): Promise<AesGcmKey> {
  if (raw.length !== 32) throw new RangeError('AES-256 needs a 32-byte key');
  const key = await subtle().importKey('raw', buf(raw), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  return {
    async seal(aad, plaintext, nonce = randomBytes(GCM_NONCE_LENGTH)) {
      if (nonce.length !== GCM_NONCE_LENGTH)
        throw new RangeError(`the nonce must be ${GCM_NONCE_LENGTH} bytes`);
      const sealed = await subtle().encrypt(
        { name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad), tagLength: GCM_TAG_LENGTH * 8 },
        key,
        buf(plaintext),
      );
      const out = new Uint8Array(GCM_NONCE_LENGTH + sealed.byteLength);
      out.set(nonce, 0);
      out.set(new Uint8Array(sealed), GCM_NONCE_LENGTH);
      return out;
    },
    async open(aad, sealed) {
      if (sealed.length < AES_OVERHEAD) {
        throw new DecryptError(
          `an encrypted body needs at least ${AES_OVERHEAD} bytes, got ${sealed.length}`,
        );
      }
      try {
        const plain = await subtle().decrypt(
          {
            name: 'AES-GCM',
            iv: buf(sealed.subarray(0, GCM_NONCE_LENGTH)),
            additionalData: buf(aad),
            tagLength: GCM_TAG_LENGTH * 8,
          },
          key,
          buf(sealed.subarray(GCM_NONCE_LENGTH)),
        );
        return new Uint8Array(plain);
      } catch (err) {
        throw new DecryptError('the frame does not authenticate (wrong key, or header or body altered)', err);
      }
    },
  };
}

async function hkdfSha256(secret: Uint8Array, info: string, length: number): Promise<Uint8Array> {
  const key = await subtle().importKey('raw', buf(secret), 'HKDF', false, ['deriveBits']);
  const bits = await subtle().deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8.encode(info) },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

// ---------------------------------------------------------------- RSA keys

function isCryptoKey(k: unknown): k is CryptoKey {
  return typeof CryptoKey !== 'undefined' && k instanceof CryptoKey;
}

function isKeyPair(k: unknown): k is CryptoKeyPair {
  return typeof k === 'object' && k !== null && 'publicKey' in k && 'privateKey' in k;
}

function pemBlock(pem: string): { label: string; der: Uint8Array } {
  const m = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m) throw new TypeError('not a PEM key (no -----BEGIN ...----- block)');
  const bin = atob((m[2] as string).replace(/\s+/g, ''));
  return { label: m[1] as string, der: Uint8Array.from(bin, (c) => c.charCodeAt(0)) };
}

/** DER length bytes of `n`. */
function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return [0x80 | bytes.length, ...bytes];
}

function der(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const head = Uint8Array.from([tag, ...derLength(len)]);
  const out = new Uint8Array(head.length + len);
  out.set(head, 0);
  let at = head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }. */
const RSA_ALGORITHM = Uint8Array.from([
  0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
]);

/** PKCS#1 RSAPublicKey → SubjectPublicKeyInfo (RFC 5280): what WebCrypto imports as 'spki'. */
const pkcs1PublicToSpki = (pkcs1: Uint8Array) => der(0x30, RSA_ALGORITHM, der(0x03, Uint8Array.of(0), pkcs1));
/** PKCS#1 RSAPrivateKey → PKCS#8 PrivateKeyInfo (RFC 5208): what WebCrypto imports as 'pkcs8'. */
const pkcs1PrivateToPkcs8 = (pkcs1: Uint8Array) =>
  der(0x30, Uint8Array.of(0x02, 0x01, 0x00), RSA_ALGORITHM, der(0x04, pkcs1));

function checkModulus(key: CryptoKey): CryptoKey {
  const bits = (key.algorithm as RsaHashedKeyAlgorithm).modulusLength ?? 0;
  if (bits < MIN_RSA_MODULUS_BITS) {
    throw new RangeError(`the RSA key has ${bits} bits; at least ${MIN_RSA_MODULUS_BITS} are required`);
  }
  return key;
}

async function importPrivate(key: PrivateKeyInput, extractable: boolean): Promise<CryptoKey> {
  if (isKeyPair(key)) return checkModulus(key.privateKey);
  if (isCryptoKey(key)) {
    if (key.type !== 'private') throw new TypeError('an RSA private key is needed');
    return checkModulus(key);
  }
  if (typeof key !== 'string')
    throw new TypeError('a private key is a PEM string, a CryptoKey or a CryptoKeyPair');
  const { label, der: bytes } = pemBlock(key);
  if (label !== 'PRIVATE KEY' && label !== 'RSA PRIVATE KEY') {
    throw new TypeError(`an RSA private key is needed, got a PEM "${label}"`);
  }
  const pkcs8 = label === 'RSA PRIVATE KEY' ? pkcs1PrivateToPkcs8(bytes) : bytes;
  return checkModulus(await subtle().importKey('pkcs8', buf(pkcs8), OAEP, extractable, ['decrypt']));
}

/** The public half of a private key, through its JWK (n, e). */
async function publicOfPrivate(key: CryptoKey): Promise<CryptoKey> {
  const jwk = await subtle().exportKey('jwk', key);
  return subtle().importKey('jwk', { kty: 'RSA', n: jwk.n, e: jwk.e, ext: true }, OAEP, true, ['encrypt']);
}

async function importPublic(key: PublicKeyInput | PrivateKeyInput): Promise<CryptoKey> {
  if (isKeyPair(key)) return checkModulus(key.publicKey);
  if (isCryptoKey(key)) return checkModulus(key.type === 'public' ? key : await publicOfPrivate(key));
  let spki: Uint8Array;
  if (key instanceof Uint8Array) {
    spki = key;
  } else if (typeof key === 'string') {
    const { label, der: bytes } = pemBlock(key);
    if (label === 'PRIVATE KEY' || label === 'RSA PRIVATE KEY') {
      return checkModulus(await publicOfPrivate(await importPrivate(key, true)));
    }
    if (label !== 'PUBLIC KEY' && label !== 'RSA PUBLIC KEY') {
      throw new TypeError(`an RSA public key is needed, got a PEM "${label}"`);
    }
    spki = label === 'RSA PUBLIC KEY' ? pkcs1PublicToSpki(bytes) : bytes;
  } else {
    throw new TypeError('a public key is PEM, SPKI DER bytes, a CryptoKey or a CryptoKeyPair');
  }
  return checkModulus(await subtle().importKey('spki', buf(spki), OAEP, true, ['encrypt']));
}

/** Imported keys by their input (one import per key, not per message): PEM text in a small map, objects weakly. */
const byText = new Map<string, Promise<CryptoKey>>();
const byObject = {
  public: new WeakMap<object, Promise<CryptoKey>>(),
  private: new WeakMap<object, Promise<CryptoKey>>(),
};
const MAX_TEXT_KEYS = 64;

function cached(
  kind: 'public' | 'private',
  input: PublicKeyInput | PrivateKeyInput,
  load: () => Promise<CryptoKey>,
): Promise<CryptoKey> {
  if (typeof input !== 'string') {
    const map = byObject[kind];
    let p = map.get(input);
    if (!p) {
      p = load();
      map.set(input, p);
    }
    return p;
  }
  const k = `${kind}\n${input}`;
  let p = byText.get(k);
  if (!p) {
    if (byText.size >= MAX_TEXT_KEYS) byText.delete(byText.keys().next().value as string);
    p = load();
    byText.set(k, p);
    p.catch(() => byText.delete(k));
  }
  return p;
}

// ---------------------------------------------------------------- gzip

async function gunzip(body: Uint8Array, maxLength: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new BodyTooLargeError(maxLength, `gzip body inflates past the limit of ${maxLength} bytes`);
  const reader = new Blob([buf(body)]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      // Stops reading at the limit: a gzip bomb costs at most about maxLength bytes.
      if (total > maxLength) {
        void reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw err;
    throw new ImError(Status.BAD_REQUEST, `gzip body is corrupt: ${(err as Error).message}`, { cause: err });
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export const webRuntime: Runtime = {
  name: 'web',
  connector: webSocketConnector,
  randomBytes,
  hkdfSha256,
  aesGcm,
  async oaepEncrypt(key, data) {
    const k = await cached('public', key, () => importPublic(key));
    return new Uint8Array(await subtle().encrypt(OAEP, k, buf(data)));
  },
  async oaepDecrypt(key, block) {
    const k = await cached('private', key, () => importPrivate(key, true));
    try {
      return new Uint8Array(await subtle().decrypt(OAEP, k, buf(block)));
    } catch (err) {
      throw new DecryptError('the RSA-OAEP key block does not decrypt with this key', err);
    }
  },
  async publicKeyDer(key) {
    const k = await cached('public', key, () => importPublic(key));
    return new Uint8Array(await subtle().exportKey('spki', k));
  },
  gunzip,
};
