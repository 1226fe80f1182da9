/**
 * The SDK's framing against the openssl vectors (packages/protocol/test/vectors/openssl): a whole
 * RSA-login session over an in-memory transport, where every server frame is one openssl sealed and
 * every client frame is checked with node:crypto directly (not through the project's crypto code);
 * for both entries (node:crypto and WebCrypto).
 */
import { constants, createDecipheriv, privateDecrypt } from 'node:crypto';
import { Command, codec, HEADER_LENGTH } from '@im/protocol';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../protocol/test/vectors/index.js';
import { loadOpensslVectors, opensslFrame } from '../../protocol/test/vectors/openssl/index.js';
import { ENTRIES, type Sdk } from './helpers/entries.js';
import { MemoryTransport } from './helpers/memory-transport.js';

const v = loadOpensslVectors();
const frame = (name: string) => hexToBytes(opensslFrame(v, name).frame);
const plaintext = (name: string) => hexToBytes(opensslFrame(v, name).plaintext);

/** AES-256-GCM open with node:crypto: body = nonce ‖ ciphertext ‖ tag, AAD = header bytes 4..11. */
function gcmOpen(key: Uint8Array, bytes: Uint8Array, bodyStart = HEADER_LENGTH): Uint8Array {
  const body = bytes.subarray(bodyStart);
  const d = createDecipheriv('aes-256-gcm', key, body.subarray(0, 12));
  d.setAAD(bytes.subarray(4, 12));
  d.setAuthTag(body.subarray(body.length - 16));
  return new Uint8Array(Buffer.concat([d.update(body.subarray(12, body.length - 16)), d.final()]));
}

/** A Connection that has sent the vector's RSA LOGIN (with the vector's secret); the LOGIN is pending. */
function loggingIn(sdk: Sdk) {
  const t = new MemoryTransport();
  const conn = new sdk.Connection(t, { label: 'mem' });
  const login = conn.request(Command.LOGIN, plaintext('login-request-rsa'), {
    rsa: v.rsa.privateKeyPem,
    rsaSecret: hexToBytes(v.secret),
  });
  return { t, conn, login };
}

describe.each(ENTRIES)('SDK vs the openssl vectors ($name entry)', ({ sdk }) => {
  it('RSA LOGIN, sealed responses, PING and SendAck: openssl frames in, independently checked frames out', async () => {
    // LOGIN with the vector's secret: same header as openssl's; the body's OAEP block unwraps with
    // node:crypto to the secret, and its AES part (key = the secret) opens to the LoginRequest.
    const { t, conn, login } = loggingIn(sdk);
    const sent = await t.nth(0);
    expect(bytesToHex(sent.subarray(0, HEADER_LENGTH))).toBe(
      bytesToHex(frame('login-request-rsa').subarray(0, HEADER_LENGTH)),
    );
    const keyLen = (sent[HEADER_LENGTH] as number) * 256 + (sent[HEADER_LENGTH + 1] as number);
    const wrapped = sent.subarray(HEADER_LENGTH + 2, HEADER_LENGTH + 2 + keyLen);
    const unwrapped = privateDecrypt(
      { key: v.rsa.privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      wrapped,
    );
    expect(unwrapped.toString('hex')).toBe(v.secret);
    const aesPart = new Uint8Array([
      ...sent.subarray(0, HEADER_LENGTH),
      ...sent.subarray(HEADER_LENGTH + 2 + keyLen),
    ]);
    expect(bytesToHex(gcmOpen(hexToBytes(v.secret), aesPart))).toBe(
      opensslFrame(v, 'login-request-rsa').plaintext,
    );

    // The LOGIN response openssl sealed with the s2c key: the SDK opens it and the session is keyed.
    t.feed(frame('login-response-aes'));
    const res = await login;
    expect(codec.LoginResponse.decode(res.body)).toMatchObject({
      sessionId: 's1',
      head: 7,
      heartbeatSeconds: 30,
    });
    expect(conn.encrypted).toBe(true);

    // PING: the SDK's frame has openssl's header and opens with openssl's c2s key.
    const ping = conn.request(Command.PING);
    const pingBytes = await t.nth(1);
    expect(bytesToHex(pingBytes.subarray(0, HEADER_LENGTH))).toBe(
      bytesToHex(frame('ping-request-aes').subarray(0, HEADER_LENGTH)),
    );
    expect(gcmOpen(hexToBytes(v.hkdf.c2s), pingBytes)).toEqual(new Uint8Array(0));
    t.feed(frame('ping-response-aes'));
    expect((await ping).body).toEqual(new Uint8Array(0));

    // MS (seq 3): openssl's sealed SendAck is the answer.
    const send = conn.request(Command.MS, codec.Message.encode({ messageId: 1n }));
    expect(gcmOpen(hexToBytes(v.hkdf.c2s), await t.nth(2)).length).toBeGreaterThan(0);
    t.feed(frame('sendack-response-aes'));
    expect(codec.SendAck.decode((await send).body)).toMatchObject({ messageUid: 123456789n, seq: 5 });
  });

  it('refuses an openssl frame with one bit changed (the tag covers the header)', async () => {
    const { t, conn, login } = loggingIn(sdk);
    await t.nth(0);
    const closed = new Promise<Error>((resolve) => conn.once('close', resolve));
    const bad = frame('login-response-aes');
    bad[11] = 1; // status OK → BAD_REQUEST: header bytes are authenticated
    t.feed(bad);
    expect((await closed).message).toMatch(/authenticate/);
    await expect(login).rejects.toThrow();
  });
});
