/**
 * protocol.md §2 RSA freshness, cluster-wide: "the server refuses, cluster-wide, any RSA LOGIN whose
 * wrapped secret it has already seen within that window". A recorded RSA LOGIN frame replayed on
 * the same edge or on ANOTHER edge is UNAUTHORIZED and the real device keeps its route; the wrapped
 * secret is a key of the cluster's Redis. Two edges, every service a process, one RSA key.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { REPLAY_KEY_PREFIX, RedisReplayCache, signDevToken } from '../../packages/core/src/index.js';
import {
  Command,
  codec,
  Encrypt,
  type Frame,
  frameAad,
  frameToBytes,
  HEADER_LENGTH,
  packFlag,
  rsaSeal,
  SessionCipher,
  Status,
} from '../../packages/protocol/src/index.js';
import { loginBody, uniqueUser } from '../support/im.js';
import { describeInfra } from '../support/infra.js';
import { isResponse, RawClient } from '../support/raw-client.js';
import { startTestCluster, type TestCluster } from './support/cluster.js';

const WINDOW_MS = 60_000;

describeInfra('cluster: a replayed RSA LOGIN is refused on every edge', () => {
  let c: TestCluster;
  let keyDir: string;
  let publicKeyPem: string;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    keyDir = mkdtempSync(join(tmpdir(), 'im-rsa-replay-'));
    const keyFile = join(keyDir, 'server-key.pem');
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    c = await startTestCluster({
      label: 'rsa_replay',
      env: { IM_RSA_PRIVATE_KEY_FILE: keyFile, IM_RSA_LOGIN_WINDOW_MS: String(WINDOW_MS) },
    });
  });

  beforeEach((ctx) => {
    ctx.onTestFailed(async () => console.error(`---- cluster logs ----\n${await c?.logTail()}`));
  });

  afterAll(async () => {
    for (const cl of clients) cl.close();
    await c?.stop();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  /** An RSA LOGIN frame as an on-path attacker records it, and the client's side of its secret. */
  async function recordedLogin(userId: string): Promise<{ bytes: Uint8Array; cipher: SessionCipher }> {
    const token = await signDevToken(c.jwtSecret, userId, 3600);
    const header = { seq: 1, command: Command.LOGIN, flag: packFlag({ encrypt: Encrypt.RSA }), status: 0 };
    const body = loginBody({ userId, deviceId: 'phone', token }, { clientTime: Date.now() });
    const sealed = rsaSeal(publicKeyPem, frameAad(header), body);
    return {
      bytes: frameToBytes({ ...header, body: sealed.body }),
      cipher: new SessionCipher(sealed.secret, 'client'),
    };
  }

  async function writeTo(edge: number, bytes: Uint8Array): Promise<{ c: RawClient; answer: Frame }> {
    const raw = await RawClient.connect(c.endpoints[edge]?.port as number);
    clients.push(raw);
    raw.write(bytes);
    return { c: raw, answer: await raw.next((f) => isResponse(f) && f.seq === 1, 10_000) };
  }

  it('replayed on the same edge and on the other edge: UNAUTHORIZED; the real device keeps its route', async () => {
    const userId = uniqueUser('victim');
    const { bytes, cipher } = await recordedLogin(userId);
    const real = await writeTo(0, bytes);
    expect(real.answer.status).toBe(Status.OK);
    expect(
      codec.LoginResponse.decode(cipher.open(real.answer, real.answer.body)).heartbeatSeconds,
    ).toBeGreaterThan(0);

    for (const edge of [1, 0]) {
      const replay = await writeTo(edge, bytes);
      expect([edge, replay.answer.status]).toEqual([edge, Status.UNAUTHORIZED]);
      expect(codec.ErrorInfo.decode(cipher.open(replay.answer, replay.answer.body)).message).toMatch(
        /seen before/,
      );
    }
    // Not kicked: the route is still the real connection's, on edge 1.
    expect((await c.routes(userId)).map((r) => [r.deviceId, r.nodeId])).toEqual([['phone', 'edge-1']]);
    expect(real.c.received.some((f) => f.status === Status.KICKED)).toBe(false);
  });

  it("the wrapped secret is a key of the cluster's Redis, under its prefix", async () => {
    const { bytes } = await recordedLogin(uniqueUser('key'));
    expect((await writeTo(1, bytes)).answer.status).toBe(Status.OK);
    // The key is SHA-256 of the body's RSA block (keyLen ‖ wrapped secret).
    const body = bytes.subarray(HEADER_LENGTH);
    const keyLen = new DataView(body.buffer, body.byteOffset).getUint16(0);
    const digest = createHash('sha256')
      .update(body.subarray(0, 2 + keyLen))
      .digest('hex');
    const cache = new RedisReplayCache({ url: c.redisUrl, prefix: `${c.prefix}:${REPLAY_KEY_PREFIX}` });
    try {
      expect(await cache.remember(digest, 1_000)).toBe(false);
    } finally {
      await cache.close();
    }
  });
});
