/**
 * Writes test/vectors/crypto.json: the frame-encryption vectors of protocol.md §2 that the protocol
 * package, the SDK and the server all check. Run once: `pnpm exec tsx packages/protocol/scripts/gen-crypto-vectors.ts`.
 * Everything random is fixed here (secret, nonces, the test-only RSA key); only the OAEP block of
 * the RSA vector is random, and it is checked by decrypting it, which is deterministic.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import {
  Command,
  codec,
  deriveSessionKeys,
  Encrypt,
  Flow,
  frameAad,
  frameToBytes,
  packFlag,
  rsaSeal,
  SessionCipher,
} from '../src/index.js';
import { bytesToHex, hexToBytes } from '../test/vectors/index.js';

const secret = hexToBytes('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const nonce = hexToBytes('a0a1a2a3a4a5a6a7a8a9aaab');
const keys = deriveSessionKeys(secret);

const pingFlag = packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.AES });
const pingHeader = { seq: 2, command: Command.PING, flag: pingFlag, status: 0 };
const pingBody = new SessionCipher(secret, 'client').seal(pingHeader, new Uint8Array(0), nonce);

const ackBody = codec.SendAck.encode({ messageUid: 123456789n, serverTime: 1700000000000, seq: 5 });
const ackFlag = packFlag({ flow: Flow.RESPONSE, encrypt: Encrypt.AES });
const ackHeader = { seq: 3, command: Command.MS, flag: ackFlag, status: 0 };
const ackSealed = new SessionCipher(secret, 'server').seal(ackHeader, ackBody, nonce);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const loginBody = codec.LoginRequest.encode({ userId: 'alice', token: 't', deviceId: 'd1', platform: 4 });
const loginFlag = packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.RSA });
const loginHeader = { seq: 1, command: Command.LOGIN, flag: loginFlag, status: 0 };
const rsa = rsaSeal(privateKey, frameAad(loginHeader), loginBody, { secret, nonce });

const out = {
  description:
    'protocol.md §2 frame encryption. HKDF-SHA256(secret, salt empty, info "im c2s" / "im s2c", 32 bytes); AES-256-GCM body = nonce ‖ ciphertext ‖ tag, AAD = header bytes 4..11; RSA body = keyLen ‖ OAEP-SHA256(secret) ‖ nonce ‖ ciphertext ‖ tag (AES key = the secret).',
  secret: bytesToHex(secret),
  c2s: bytesToHex(keys.c2s),
  s2c: bytesToHex(keys.s2c),
  nonce: bytesToHex(nonce),
  aes: [
    {
      name: 'ping-request-aes',
      direction: 'c2s',
      plaintext: '',
      frame: bytesToHex(frameToBytes({ ...pingHeader, body: pingBody })),
    },
    {
      name: 'sendack-response-aes',
      direction: 's2c',
      plaintext: bytesToHex(ackBody),
      frame: bytesToHex(frameToBytes({ ...ackHeader, body: ackSealed })),
    },
  ],
  rsa: {
    name: 'login-request-rsa',
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    plaintext: bytesToHex(loginBody),
    frame: bytesToHex(frameToBytes({ ...loginHeader, body: rsa.body })),
  },
};
writeFileSync(new URL('../test/vectors/crypto.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
console.log('wrote test/vectors/crypto.json');
