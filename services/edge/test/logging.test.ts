/**
 * docs/security.md: tokens, session secrets and the RSA private key never reach a log line, even at
 * debug level, whether the LOGIN fails or succeeds (protocol.md §5 LoginRequest.token).
 */
import { Writable } from 'node:stream';
import { createLogger, loadConfig, serverKeysFromPem } from '@im/core';
import { Command, codec, Status } from '@im/protocol';
import { afterEach, expect, it } from 'vitest';
import { loadCryptoVectors } from '../../../packages/protocol/test/vectors/crypto.js';
import { hexToBytes } from '../../../packages/protocol/test/vectors/index.js';
import { isResponse, RawClient } from '../../../test/support/raw-client.js';
import { createEdge, type Edge } from '../src/index.js';
import { FakeBus, FakeMessages, FakePresence, fakeVerifier } from './fakes.js';

let edge: Edge | undefined;
afterEach(async () => {
  await edge?.close();
});

it('LOGIN tokens and key material are not logged', async () => {
  const v = loadCryptoVectors();
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger('edge-log-test', 'debug', sink);
  const config = loadConfig({}, { nodeId: 'log', edge: { host: '127.0.0.1', port: 0 } });
  edge = createEdge({
    config,
    nodeId: 'log',
    message: new FakeMessages(),
    presence: new FakePresence(),
    bus: new FakeBus(),
    verifier: fakeVerifier,
    logger,
    serverKeys: serverKeysFromPem(v.rsa.privateKeyPem),
  });
  const { port } = await edge.listen();
  const c = await RawClient.connect(port);
  const secretToken = 'SECRET-TOKEN-abc123';
  const bad = await c.request({
    command: Command.LOGIN,
    body: codec.LoginRequest.encode({ userId: 'u', deviceId: 'd', token: secretToken }),
  });
  expect(bad.status).toBe(Status.UNAUTHORIZED);
  const good = await c.request({
    command: Command.LOGIN,
    body: codec.LoginRequest.encode({ userId: 'u', deviceId: 'd', token: 'ok:u' }),
  });
  expect(good.status).toBe(Status.OK);
  c.close();
  // An RSA LOGIN carrying the vector secret (token 't' is refused by fakeVerifier).
  const r = await RawClient.connect(port);
  r.write(hexToBytes(v.rsa.frame));
  await r.next(isResponse);
  r.close();
  await new Promise((resolve) => setTimeout(resolve, 50));

  const all = lines.join('');
  expect(all).toContain('logged in');
  for (const leak of [secretToken, 'ok:u', v.secret, 'PRIVATE KEY']) expect(all).not.toContain(leak);
});
