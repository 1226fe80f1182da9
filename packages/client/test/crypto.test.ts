/**
 * The SDK's frame encryption (protocol.md §2) against the shared crypto vectors
 * (packages/protocol/test/vectors/crypto.json) and against tampering, over an in-memory transport,
 * for both entries (node:crypto and WebCrypto); and the end-to-end format across them.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  Command,
  codec,
  decodeHeader,
  Encrypt,
  Flow,
  type Frame,
  frameAad,
  frameToBytes,
  HEADER_LENGTH,
  packFlag,
  rsaOpen,
  SessionCipher,
  Status,
  unpackFlag,
} from '@im/protocol';
import { describe, expect, it } from 'vitest';
import { loadCryptoVectors } from '../../protocol/test/vectors/crypto.js';
import { bytesToHex, hexToBytes } from '../../protocol/test/vectors/index.js';
import type { ConnectionError } from '../src/index.js';
import { ENTRIES, type Sdk } from './helpers/entries.js';
import { MemoryTransport } from './helpers/memory-transport.js';
import { waitFor } from './helpers/wait.js';

const v = loadCryptoVectors();
const secret = hexToBytes(v.secret);
const vectorFrame = (name: string) => hexToBytes(v.aes.find((a) => a.name === name)?.frame as string);

/** A Connection whose RSA LOGIN (with the vector's secret) the fake server accepts. */
async function encryptedConnection(sdk: Sdk) {
  const t = new MemoryTransport();
  const conn = new sdk.Connection(t, { label: 'mem' });
  const serverPub = v.rsa.privateKeyPem; // the public half is derived from it
  const login = conn.request(Command.LOGIN, hexToBytes(v.rsa.plaintext), {
    rsa: serverPub,
    rsaSecret: secret,
  });
  const written = await t.nth(0);
  const header = decodeHeader(written);
  // The header is the vector's byte for byte; the body opens with the vector key into the same secret.
  expect(bytesToHex(written.subarray(0, HEADER_LENGTH))).toBe(v.rsa.frame.slice(0, 2 * HEADER_LENGTH));
  const opened = rsaOpen(v.rsa.privateKeyPem, frameAad(header), written.subarray(HEADER_LENGTH));
  expect(bytesToHex(opened.secret)).toBe(v.secret);
  expect(bytesToHex(opened.plaintext)).toBe(v.rsa.plaintext);
  const server = new SessionCipher(secret, 'server');
  const flag = packFlag({ flow: Flow.RESPONSE, encrypt: Encrypt.AES });
  const resHead = { seq: 1, command: Command.LOGIN, flag, status: Status.OK };
  const resBody = codec.LoginResponse.encode({
    serverTime: 1,
    heartbeatSeconds: 30,
    head: 0,
    sessionId: 's',
  });
  t.feed(frameToBytes({ ...resHead, body: server.seal(resHead, resBody) }));
  const res = await login;
  expect(codec.LoginResponse.decode(res.body).sessionId).toBe('s');
  expect(conn.encrypted).toBe(true);
  return { t, conn, server };
}

describe.each(ENTRIES)('SDK vs the shared crypto vectors ($name entry)', ({ sdk }) => {
  it('RSA LOGIN, then a sealed PING with the vector header, then the vector SendAck opens', async () => {
    const { t, conn, server } = await encryptedConnection(sdk);
    const ping = conn.request(Command.PING);
    const pingBytes = await t.nth(1);
    const expected = vectorFrame('ping-request-aes');
    // Same header (seq 2, AES flag) as the vector; the nonce is random, so the body differs but opens.
    expect(bytesToHex(pingBytes.subarray(0, HEADER_LENGTH))).toBe(
      bytesToHex(expected.subarray(0, HEADER_LENGTH)),
    );
    const h = decodeHeader(pingBytes);
    expect(server.open(h, pingBytes.subarray(HEADER_LENGTH))).toEqual(new Uint8Array(0));
    // And the server side opens the vector's own bytes the same way.
    expect(server.open(decodeHeader(expected), expected.subarray(HEADER_LENGTH))).toEqual(new Uint8Array(0));
    const pingRes = {
      seq: 2,
      command: Command.PING,
      flag: packFlag({ flow: Flow.RESPONSE, encrypt: Encrypt.AES }),
      status: 0,
    };
    t.feed(frameToBytes({ ...pingRes, body: server.seal(pingRes, new Uint8Array(0)) }));
    await ping;

    const send = conn.request(Command.MS, codec.Message.encode({ messageId: 1n }));
    t.feed(vectorFrame('sendack-response-aes'));
    const ack = await send;
    expect(bytesToHex(ack.body)).toBe(v.aes.find((a) => a.name === 'sendack-response-aes')?.plaintext);
    expect(unpackFlag(ack.flag).encrypt).toBe(Encrypt.NONE); // handed out opened
  });
});

describe.each(ENTRIES)('SDK refusals on an encrypted connection ($name entry)', ({ sdk }) => {
  it('a tampered frame from the server closes the connection with a PROTOCOL error', async () => {
    const { t, conn } = await encryptedConnection(sdk);
    const closed = new Promise<Error>((resolve) => conn.once('close', resolve));
    const ping = conn.request(Command.PING);
    await t.nth(1);
    const bytes = vectorFrame('sendack-response-aes');
    bytes[9] = Command.PING; // header tampered: command MS → PING
    bytes[8] = 2; // seq 3 → 2, to match the pending PING
    t.feed(bytes);
    const reason = (await closed) as ConnectionError;
    expect(reason.code).toBe('PROTOCOL');
    expect(reason.message).toMatch(/authenticate/);
    await expect(ping).rejects.toBe(reason);
  });

  it('a plain frame after the session key is refused (no downgrade)', async () => {
    const { t, conn } = await encryptedConnection(sdk);
    const closed = new Promise<Error>((resolve) => conn.once('close', resolve));
    t.feed(
      frameToBytes({
        seq: 1,
        command: Command.MN,
        flag: packFlag({ flow: Flow.NOTIFY }),
        status: 0,
        body: new Uint8Array(0),
      }),
    );
    const reason = (await closed) as ConnectionError;
    expect(reason.code).toBe('PROTOCOL');
    expect(reason.message).toMatch(/does not open with the session key/);
  });

  it('an unsealed E2E (3) push is refused too: E2E frames are sealed on an encrypted connection', async () => {
    const { t, conn } = await encryptedConnection(sdk);
    const got: Frame[] = [];
    conn.on('notify', (f) => got.push(f));
    const closed = new Promise<Error>((resolve) => conn.once('close', resolve));
    t.feed(
      frameToBytes({
        seq: 1,
        command: Command.MPS,
        flag: packFlag({ flow: Flow.NOTIFY, encrypt: Encrypt.E2E }),
        status: 0,
        body: codec.Message.encode({ from: 'a' }),
      }),
    );
    expect(((await closed) as ConnectionError).code).toBe('PROTOCOL');
    expect(got).toEqual([]);
  });

  it('a sealed E2E (3) push opens with the session key and keeps encrypt = 3', async () => {
    const { t, conn, server } = await encryptedConnection(sdk);
    const got: Frame[] = [];
    conn.on('notify', (f) => got.push(f));
    const head = {
      seq: 1,
      command: Command.MPS,
      flag: packFlag({ flow: Flow.NOTIFY, encrypt: Encrypt.E2E }),
      status: 0,
    };
    const body = codec.Message.encode({ from: 'a' });
    t.feed(frameToBytes({ ...head, body: server.seal(head, body) }));
    await waitFor('the push', () => got.length > 0);
    expect(got.map((f) => [unpackFlag(f.flag).encrypt, codec.Message.decode(f.body).from])).toEqual([
      [Encrypt.E2E, 'a'],
    ]);
    expect(conn.closed).toBe(false);
  });

  it('an E2E (3) MS is sent sealed, still marked encrypt = 3', async () => {
    const { t, conn, server } = await encryptedConnection(sdk);
    const body = codec.Message.encode({ from: 'me' });
    conn
      .request(Command.MS, body, { flag: packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.E2E }) })
      .catch(() => undefined);
    const sent = await t.nth(1);
    const h = decodeHeader(sent);
    expect(unpackFlag(h.flag).encrypt).toBe(Encrypt.E2E);
    expect(server.open(h, sent.subarray(HEADER_LENGTH))).toEqual(body);
  });

  it('a forged plain OK (or UNAUTHORIZED) answer to an RSA LOGIN is refused; a plain UNSUPPORTED is believed', async () => {
    for (const [status, refused] of [
      [Status.OK, true],
      [Status.UNAUTHORIZED, true],
      [Status.UNSUPPORTED, false],
    ] as const) {
      const t = new MemoryTransport();
      const conn = new sdk.Connection(t, { sealed: true });
      const login = conn.request(Command.LOGIN, new Uint8Array(0), { rsa: v.rsa.privateKeyPem });
      await t.nth(0); // the LOGIN is out (sealing may be asynchronous): now its answer is expected
      const body =
        status === Status.OK
          ? codec.LoginResponse.encode({ serverTime: 1, heartbeatSeconds: 30, head: 0, sessionId: 'x' })
          : codec.ErrorInfo.encode({ message: 'plain' });
      t.feed(
        frameToBytes({
          seq: 1,
          command: Command.LOGIN,
          flag: packFlag({ flow: Flow.RESPONSE }),
          status,
          body,
        }),
      );
      const err = (await login.catch((e: unknown) => e)) as Error;
      if (refused) {
        expect((err as ConnectionError).code).toBe('PROTOCOL');
        expect(err.message).toMatch(/RSA LOGIN in the clear/);
      } else {
        expect(err.message).toMatch(/UNSUPPORTED: plain/);
      }
      expect(conn.encrypted).toBe(false);
    }
  });

  it('a connection logging in with RSA refuses any frame before the LOGIN answer', async () => {
    const t = new MemoryTransport();
    const conn = new sdk.Connection(t, { sealed: true });
    const login = conn.request(Command.LOGIN, new Uint8Array(0), { rsa: v.rsa.privateKeyPem });
    const notifies: Frame[] = [];
    conn.on('notify', (f) => notifies.push(f));
    t.feed(
      frameToBytes({
        seq: 1,
        command: Command.LOGOUT,
        flag: packFlag({ flow: Flow.NOTIFY }),
        status: Status.KICKED,
        body: codec.ErrorInfo.encode({ message: 'forged' }),
      }),
    );
    const err = (await login.catch((e: unknown) => e)) as ConnectionError;
    expect(err.code).toBe('PROTOCOL');
    expect(err.message).toMatch(/before the RSA LOGIN answer/);
    expect(notifies).toEqual([]);
  });

  it('a failed RSA LOGIN leaves the connection plain', async () => {
    const t = new MemoryTransport();
    const conn = new sdk.Connection(t);
    const login = conn.request(Command.LOGIN, new Uint8Array(0), {
      rsa: v.rsa.privateKeyPem,
      rsaSecret: secret,
    });
    await t.nth(0);
    const cand = new SessionCipher(secret, 'server');
    const head = {
      seq: 1,
      command: Command.LOGIN,
      flag: packFlag({ flow: Flow.RESPONSE, encrypt: Encrypt.AES }),
      status: Status.UNAUTHORIZED,
    };
    t.feed(
      frameToBytes({ ...head, body: cand.seal(head, codec.ErrorInfo.encode({ message: 'bad token' })) }),
    );
    await expect(login).rejects.toThrow(/bad token/);
    expect(conn.encrypted).toBe(false);
    conn.request(Command.PING).catch(() => undefined);
    expect(unpackFlag(decodeHeader(await t.nth(1)).flag).encrypt).toBe(Encrypt.NONE);
  });
});

describe('end-to-end content format (packages/client/src/e2e.ts)', () => {
  const pem = {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  } as const;
  const a = generateKeyPairSync('rsa', { modulusLength: 2048, ...pem });
  const b = generateKeyPairSync('rsa', { modulusLength: 2048, ...pem });
  const ctx = { from: 'alice', conversation: { type: 0, target: 'bob' } };
  const text = new TextEncoder().encode('secret words');

  describe.each(ENTRIES)('$name entry', ({ sdk }) => {
    it('every recipient key opens it; the plaintext is not in the sealed bytes', async () => {
      const data = await sdk.sealContent(text, [b.publicKey, a.publicKey], ctx);
      expect(Buffer.from(data).includes(Buffer.from('secret'))).toBe(false);
      expect(await sdk.openContent(data, b.privateKey, ctx)).toEqual(text);
      expect(await sdk.openContent(data, a.privateKey, ctx)).toEqual(text);
    });

    it('another sender or conversation (re-attribution by the server) fails the tag', async () => {
      const data = await sdk.sealContent(text, [b.publicKey], ctx);
      await expect(sdk.openContent(data, b.privateKey, { ...ctx, from: 'mallory' })).rejects.toThrow(
        /authenticate/,
      );
      await expect(
        sdk.openContent(data, b.privateKey, { ...ctx, conversation: { type: 1, target: 'g' } }),
      ).rejects.toThrow(/authenticate/);
      const flipped = new Uint8Array(data);
      flipped[flipped.length - 20] = (flipped[flipped.length - 20] as number) ^ 1;
      await expect(sdk.openContent(flipped, b.privateKey, ctx)).rejects.toThrow();
    });

    it('a key it was not sealed for: DecryptError', async () => {
      const data = await sdk.sealContent(text, [b.publicKey], ctx);
      await expect(sdk.openContent(data, a.privateKey, ctx)).rejects.toThrow(/not sealed for this key/);
    });
  });

  it("the Node and browser builds read each other's content", async () => {
    const [node, browser] = ENTRIES.map((e) => e.sdk) as [Sdk, Sdk];
    const fromNode = await node.sealContent(text, [b.publicKey, a.publicKey], ctx);
    expect(await browser.openContent(fromNode, b.privateKey, ctx)).toEqual(text);
    const fromBrowser = await browser.sealContent(text, [b.publicKey, a.privateKey], ctx);
    expect(await node.openContent(fromBrowser, b.privateKey, ctx)).toEqual(text);
    expect(await node.openContent(fromBrowser, a.privateKey, ctx)).toEqual(text);
  });
});
