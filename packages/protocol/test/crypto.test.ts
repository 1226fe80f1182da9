/**
 * protocol.md §2 frame encryption: the shared vectors (vectors/crypto.json) and the properties a
 * tampered frame must fail on.
 */
import { constants, createHmac, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aesOpen,
  aesSeal,
  Command,
  DecryptError,
  decodeHeader,
  deriveSessionKeys,
  Encrypt,
  Flow,
  frameAad,
  HEADER_LENGTH,
  packFlag,
  publicKeyDer,
  rsaOpen,
  rsaSeal,
  SessionCipher,
  toPublicKey,
} from '../src/index.js';
import { loadCryptoVectors } from './vectors/crypto.js';
import { bytesToHex, hexToBytes } from './vectors/index.js';

const v = loadCryptoVectors();
const secret = hexToBytes(v.secret);

function split(frameHex: string) {
  const bytes = hexToBytes(frameHex);
  return { header: decodeHeader(bytes), raw: bytes, body: bytes.subarray(HEADER_LENGTH) };
}

describe('shared crypto vectors (vectors/crypto.json)', () => {
  it('HKDF-SHA256 with an empty salt gives the vector keys (checked against HMAC by hand)', () => {
    const keys = deriveSessionKeys(secret);
    expect(bytesToHex(keys.c2s)).toBe(v.c2s);
    expect(bytesToHex(keys.s2c)).toBe(v.s2c);
    // RFC 5869 with L = 32: PRK = HMAC(salt = 32 zero bytes, IKM); OKM = HMAC(PRK, info ‖ 0x01).
    const prk = createHmac('sha256', new Uint8Array(32)).update(secret).digest();
    for (const [info, hex] of [
      ['im c2s', v.c2s],
      ['im s2c', v.s2c],
    ] as const) {
      const okm = createHmac('sha256', prk)
        .update(Buffer.concat([Buffer.from(info), Uint8Array.of(1)]))
        .digest();
      expect(okm.toString('hex')).toBe(hex);
    }
  });

  it.each(v.aes)('$name: seals byte for byte with the fixed nonce and opens back', (vec) => {
    const { header, body, raw } = split(vec.frame);
    expect(header.length).toBe(body.length);
    expect(bytesToHex(raw.subarray(HEADER_LENGTH, HEADER_LENGTH + 12))).toBe(v.nonce);
    const sender = new SessionCipher(secret, vec.direction === 'c2s' ? 'client' : 'server');
    const receiver = new SessionCipher(secret, vec.direction === 'c2s' ? 'server' : 'client');
    expect(bytesToHex(sender.seal(header, hexToBytes(vec.plaintext), hexToBytes(v.nonce)))).toBe(
      bytesToHex(body),
    );
    expect(bytesToHex(receiver.open(header, body))).toBe(vec.plaintext);
    // AAD is exactly header bytes 4..11 as sent.
    expect(bytesToHex(frameAad(header))).toBe(bytesToHex(raw.subarray(4, 12)));
    // The same side cannot open its own frames: the directions have different keys.
    expect(() => sender.open(header, body)).toThrow(DecryptError);
  });

  it('the RSA LOGIN vector opens with the test key into the secret and the LoginRequest', () => {
    const { header, body } = split(v.rsa.frame);
    expect(header.command).toBe(Command.LOGIN);
    expect(header.flag).toBe(packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.RSA }));
    const keyLen = (body[0] as number) * 256 + (body[1] as number);
    expect(keyLen).toBe(256); // a 2048-bit modulus
    const opened = rsaOpen(v.rsa.privateKeyPem, frameAad(header), body);
    expect(bytesToHex(opened.secret)).toBe(v.secret);
    expect(bytesToHex(opened.plaintext)).toBe(v.rsa.plaintext);
    // The AES part uses the secret itself as the key, with the fixed nonce.
    expect(bytesToHex(body.subarray(2 + keyLen, 2 + keyLen + 12))).toBe(v.nonce);
  });
});

describe('tampering (protocol.md §2: a tampered header fails authentication)', () => {
  const header = { seq: 7, command: Command.MS, flag: packFlag({ encrypt: Encrypt.AES }), status: 0 };
  const client = new SessionCipher(secret, 'client');
  const server = new SessionCipher(secret, 'server');

  it('any change of an authenticated header byte or of any body bit fails', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 1, max: 255 }),
        (plaintext, headerByte, xor) => {
          const sealed = client.seal(header, plaintext);
          expect(server.open(header, sealed)).toEqual(plaintext);
          const aad = frameAad(header);
          aad[headerByte] = (aad[headerByte] as number) ^ xor;
          const h2 = decodeHeader(Uint8Array.of(0, 0, 0, 0, ...aad));
          expect(() => server.open(h2, sealed)).toThrow(DecryptError);
          const flipped = new Uint8Array(sealed);
          const at = (headerByte * 31 + xor) % flipped.length;
          flipped[at] = (flipped[at] as number) ^ xor;
          expect(() => server.open(header, flipped)).toThrow(DecryptError);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('short or garbage bodies are DecryptError (never another exception)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (junk) => {
        expect(() => server.open(header, junk)).toThrow(DecryptError);
      }),
      { numRuns: 300 },
    );
  });
});

describe('RSA (protocol.md §2 RSA: OAEP-SHA256, never PKCS#1 v1.5)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const aad = frameAad({
    seq: 1,
    command: Command.LOGIN,
    flag: packFlag({ encrypt: Encrypt.RSA }),
    status: 0,
  });

  it('round-trips with a PEM, a KeyObject or SPKI DER public key', () => {
    const payload = Uint8Array.of(1, 2, 3);
    for (const key of [
      publicKey,
      publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      publicKeyDer(publicKey),
    ]) {
      const sealed = rsaSeal(key, aad, payload);
      const opened = rsaOpen(privateKey, aad, sealed.body);
      expect(opened.plaintext).toEqual(payload);
      expect(opened.secret).toEqual(sealed.secret);
    }
  });

  it('a PKCS#1 v1.5 key block is refused', () => {
    const sealed = rsaSeal(publicKey, aad, new Uint8Array(0));
    const v15 = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, sealed.secret);
    const body = new Uint8Array(sealed.body);
    body.set(v15, 2);
    expect(() => rsaOpen(privateKey, aad, body)).toThrow(DecryptError);
  });

  it('a key block for another key, a wrong AAD or a truncated body fails', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sealed = rsaSeal(other.publicKey, aad, Uint8Array.of(9));
    expect(() => rsaOpen(privateKey, aad, sealed.body)).toThrow(DecryptError);
    const mine = rsaSeal(publicKey, aad, Uint8Array.of(9));
    const wrongAad = frameAad({
      seq: 2,
      command: Command.LOGIN,
      flag: packFlag({ encrypt: Encrypt.RSA }),
      status: 0,
    });
    expect(() => rsaOpen(privateKey, wrongAad, mine.body)).toThrow(DecryptError);
    for (const n of [0, 1, 2, 100, 258, 285]) {
      expect(() => rsaOpen(privateKey, aad, mine.body.subarray(0, n))).toThrow(DecryptError);
    }
  });

  it('keys under 2048 bits are refused', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => toPublicKey(small.publicKey)).toThrow(/2048/);
  });

  it('aesSeal/aesOpen refuse keys that are not 32 bytes', () => {
    expect(() => aesSeal(new Uint8Array(16), aad, new Uint8Array(0))).toThrow(RangeError);
    expect(() => aesOpen(new Uint8Array(16), aad, new Uint8Array(40))).toThrow(RangeError);
  });
});
