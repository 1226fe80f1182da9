/**
 * protocol.md §2 against vectors the openssl command line made (vectors/openssl/make.sh): HKDF-SHA256
 * session keys, AES-256-GCM frames both ways, and the RSA-OAEP-SHA256 LOGIN body. The project's
 * code must open each byte for byte and, given the same nonce, seal to the very same bytes.
 */
import { describe, expect, it } from 'vitest';
import {
  codec,
  decodeHeader,
  deriveSessionKeys,
  frameAad,
  HEADER_LENGTH,
  oaepDecrypt,
  rsaOpen,
  SessionCipher,
  toPrivateKey,
} from '../src/index.js';
import { loadCryptoVectors } from './vectors/crypto.js';
import { bytesToHex, hexToBytes } from './vectors/index.js';
import { loadOpensslVectors, opensslFrame } from './vectors/openssl/index.js';

const v = loadOpensslVectors();
const secret = hexToBytes(v.secret);

function split(frameHex: string) {
  const bytes = hexToBytes(frameHex);
  return { header: decodeHeader(bytes), body: bytes.subarray(HEADER_LENGTH) };
}

describe('openssl vectors (vectors/openssl/vectors.json)', () => {
  it('were made by openssl, with the commands written next to each', () => {
    expect(v.generator).toMatch(/^OpenSSL \d/);
    for (const c of [...v.hkdf.commands, ...v.rsa.commands]) expect(c).toMatch(/^(printf .*; )?openssl /);
    for (const f of v.frames) expect(f.commands.join(' ')).toContain('openssl ');
    expect(v.frames.map((f) => f.name)).toEqual([
      'login-request-rsa',
      'login-response-aes',
      'ping-request-aes',
      'ping-response-aes',
      'sendack-response-aes',
    ]);
  });

  it('HKDF-SHA256 (empty salt, info "im c2s" / "im s2c") gives the keys openssl kdf gives', () => {
    const keys = deriveSessionKeys(secret);
    expect(bytesToHex(keys.c2s)).toBe(v.hkdf.c2s);
    expect(bytesToHex(keys.s2c)).toBe(v.hkdf.s2c);
  });

  it('RSA-OAEP-SHA256: the secret openssl pkeyutl wrapped unwraps with the project code', () => {
    expect(bytesToHex(oaepDecrypt(toPrivateKey(v.rsa.privateKeyPem), hexToBytes(v.rsa.wrappedSecret)))).toBe(
      v.secret,
    );
  });

  it('the RSA LOGIN body opens into the secret and the LoginRequest', () => {
    const f = opensslFrame(v, 'login-request-rsa');
    const { header, body } = split(f.frame);
    expect(header.length).toBe(body.length);
    const opened = rsaOpen(v.rsa.privateKeyPem, frameAad(header), body);
    expect(bytesToHex(opened.secret)).toBe(v.secret);
    expect(bytesToHex(opened.plaintext)).toBe(f.plaintext);
    // The body openssl sealed was protobuf written by hand: the codec reads the same fields.
    expect(codec.LoginRequest.decode(opened.plaintext)).toMatchObject({
      userId: 'alice',
      token: 't',
      deviceId: 'd1',
      platform: 4,
    });
  });

  it.each(v.frames.filter((f) => f.name !== 'login-request-rsa'))(
    '$name: opens with the session keys, and seals to the same bytes with its nonce',
    (f) => {
      const { header, body } = split(f.frame);
      expect(header.length).toBe(body.length);
      const sender = new SessionCipher(secret, f.direction === 'c2s' ? 'client' : 'server');
      const receiver = new SessionCipher(secret, f.direction === 'c2s' ? 'server' : 'client');
      expect(bytesToHex(receiver.open(header, body))).toBe(f.plaintext);
      const nonce = body.subarray(0, 12);
      expect(bytesToHex(sender.seal(header, hexToBytes(f.plaintext), nonce))).toBe(bytesToHex(body));
      // A flipped tag bit does not open.
      const bad = body.slice();
      bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
      expect(() => receiver.open(header, bad)).toThrow();
    },
  );

  it('decode to the bodies they were written from', () => {
    const open = (name: string) => {
      const f = opensslFrame(v, name);
      return hexToBytes(f.plaintext);
    };
    expect(codec.LoginResponse.decode(open('login-response-aes'))).toMatchObject({
      heartbeatSeconds: 30,
      head: 7,
      sessionId: 's1',
    });
    expect(codec.SendAck.decode(open('sendack-response-aes'))).toMatchObject({
      messageUid: 123456789n,
      seq: 5,
    });
  });

  it('agree byte for byte with the shared vectors the project generated (vectors/crypto.json)', () => {
    const ours = loadCryptoVectors();
    expect(ours.secret).toBe(v.secret);
    expect([ours.c2s, ours.s2c]).toEqual([v.hkdf.c2s, v.hkdf.s2c]);
    for (const a of ours.aes) expect(opensslFrame(v, a.name).frame, a.name).toBe(a.frame);
  });
});
