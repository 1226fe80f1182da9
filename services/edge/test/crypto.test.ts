/**
 * The edge against the shared crypto vectors (packages/protocol/test/vectors/crypto.json): the
 * vector's RSA LOGIN is a recorded frame without clientTime, so it is refused (protocol.md §2 RSA
 * freshness); a LOGIN carrying the vector's secret with a fresh clientTime is accepted, and then the
 * vector's AES PING bytes, written as they are, are answered with AES frames that open with the
 * vector's secret. And without an RSA key, RSA is UNSUPPORTED.
 */
import { type Config, loadConfig, serverKeysFromPem, type TokenVerifier } from '@im/core';
import {
  Command,
  codec,
  Encrypt,
  frameAad,
  ImError,
  packFlag,
  rsaSeal,
  SessionCipher,
  Status,
  unpackFlag,
} from '@im/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCryptoVectors } from '../../../packages/protocol/test/vectors/crypto.js';
import { hexToBytes } from '../../../packages/protocol/test/vectors/index.js';
import { isResponse, RawClient } from '../../../test/support/raw-client.js';
import { createEdge, type Edge } from '../src/index.js';
import { FakeBus, FakeMessages, FakePresence } from './fakes.js';

const v = loadCryptoVectors();
const acceptT: TokenVerifier = {
  async verify(token) {
    if (token !== 't') throw new ImError(Status.UNAUTHORIZED, 'bad token');
    return { expiresAt: Date.now() + 3_600_000 };
  },
};
const started: { edge: Edge; client?: RawClient }[] = [];

async function start(withKey: boolean): Promise<{ port: number }> {
  const config: Config = loadConfig({}, { nodeId: 'crypto', edge: { host: '127.0.0.1', port: 0 } });
  const edge = createEdge({
    config,
    nodeId: 'crypto',
    message: new FakeMessages(),
    presence: new FakePresence(),
    bus: new FakeBus(),
    verifier: acceptT,
    logger: pino({ level: 'silent' }),
    serverKeys: withKey ? serverKeysFromPem(v.rsa.privateKeyPem) : null,
  });
  started.push({ edge });
  return edge.listen();
}

afterEach(async () => {
  for (const s of started.splice(0)) {
    s.client?.close();
    await s.edge.close();
  }
});

describe('edge vs the shared crypto vectors', () => {
  it('refuses the recorded vector LOGIN (no clientTime), then takes the vector secret fresh and the AES PING byte for byte', async () => {
    const { port } = await start(true);
    const c = await RawClient.connect(port);
    (started.at(-1) as { client?: RawClient }).client = c;
    const secret = hexToBytes(v.secret);
    const client = new SessionCipher(secret, 'client');

    c.write(hexToBytes(v.rsa.frame));
    const stale = await c.next((f) => isResponse(f) && f.seq === 1);
    expect(stale.status).toBe(Status.UNAUTHORIZED);
    expect(codec.ErrorInfo.decode(client.open(stale, stale.body)).message).toMatch(/clientTime/);

    const header = { seq: 1, command: Command.LOGIN, flag: packFlag({ encrypt: Encrypt.RSA }), status: 0 };
    const fresh = codec.LoginRequest.encode({
      ...codec.LoginRequest.decode(hexToBytes(v.rsa.plaintext)),
      clientTime: Date.now(),
    });
    c.send({ ...header, body: rsaSeal(v.rsa.privateKeyPem, frameAad(header), fresh, { secret }).body });
    const login = await c.next((f) => isResponse(f) && f.seq === 1);
    expect(unpackFlag(login.flag).encrypt).toBe(Encrypt.AES);
    expect(login.status).toBe(Status.OK);
    expect(codec.LoginResponse.decode(client.open(login, login.body)).heartbeatSeconds).toBeGreaterThan(0);

    c.write(hexToBytes(v.aes.find((a) => a.name === 'ping-request-aes')?.frame as string));
    const ping = await c.next((f) => isResponse(f) && f.seq === 2);
    expect([ping.command, ping.status, unpackFlag(ping.flag).encrypt]).toEqual([
      Command.PING,
      0,
      Encrypt.AES,
    ]);
    expect(client.open(ping, ping.body)).toEqual(new Uint8Array(0));

    // The same vector again is a replay now: refused and closed.
    c.write(hexToBytes(v.aes.find((a) => a.name === 'ping-request-aes')?.frame as string));
    const replay = await c.next((f) => isResponse(f) && f.seq === 2);
    expect(replay.status).toBe(Status.BAD_REQUEST);
    expect(await c.closedWithin(2000)).toBe(true);
  });

  it('without an RSA key, an RSA LOGIN is UNSUPPORTED and the connection stays usable', async () => {
    const { port } = await start(false);
    const c = await RawClient.connect(port);
    (started.at(-1) as { client?: RawClient }).client = c;
    c.write(hexToBytes(v.rsa.frame));
    const res = await c.next((f) => isResponse(f) && f.seq === 1);
    expect(res.status).toBe(Status.UNSUPPORTED);
    expect(codec.ErrorInfo.decode(res.body).message).toMatch(/no RSA key/);
    const ping = await c.request({
      command: Command.LOGIN,
      seq: 2,
      body: codec.LoginRequest.encode({ userId: 'u', token: 't', deviceId: 'd' }),
      flag: packFlag({}),
    });
    expect(ping.status).toBe(Status.OK);
  });
});
