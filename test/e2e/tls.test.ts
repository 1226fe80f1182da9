/**
 * protocol.md §2 Transport security: the edge listens with TLS beside (or instead of) the plain
 * port, with a certificate generated at test time; the SDK and the CLI connect with --tls --ca.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, ImClient, messageText } from '../../packages/client/src/index.js';
import { Command, type Message, Status } from '../../packages/protocol/src/index.js';
import { freePort } from '../cluster/support/proc.js';
import { connectAs, expectStatus, loginBody, nextPush, uniqueUser } from '../support/im.js';
import { RawClient } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeTestCert, type TestCert } from '../support/tls-cert.js';

const BIN = fileURLToPath(new URL('../../packages/cli/bin/im.mjs', import.meta.url));
let cert: TestCert;

beforeAll(async () => {
  cert = await makeTestCert();
});

afterAll(async () => {
  if (cert) await rm(cert.dir, { recursive: true, force: true });
});

function client(
  srv: TestServer,
  userId: string,
  token: string,
  tls: ConstructorParameters<typeof ImClient>[0]['tls'],
) {
  return new ImClient({
    host: '127.0.0.1',
    port: srv.server.tlsPort as number,
    userId,
    deviceId: 'd1',
    token,
    tls,
    reconnect: false,
  });
}

describe('TLS beside the plain port', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({
      edge: { tlsPort: 0, tlsCertFile: cert.certFile, tlsKeyFile: cert.keyFile },
    });
    expect(srv.server.tlsPort).toBeGreaterThan(0);
    expect(srv.server.tlsPort).not.toBe(srv.port);
  });
  afterAll(() => srv?.close());

  it('an SDK client over TLS (trusting the test CA) talks to a plain client', async () => {
    const aliceId = uniqueUser('alice');
    const bobId = uniqueUser('bob');
    const alice = client(srv, aliceId, (await srv.identity(aliceId)).token, { ca: cert.certPem });
    const { c: bob } = await connectAs(srv.port, await srv.identity(bobId));
    try {
      await alice.connect();
      const ack = await alice.sendText(bobId, 'over TLS');
      const { message } = await nextPush(bob);
      expect([message.messageUid, new TextDecoder().decode(message.messageContent?.data)]).toEqual([
        ack.messageUid,
        'over TLS',
      ]);
      // And back: bob → alice arrives on the TLS connection.
      const got = new Promise<Message>((resolve) => alice.once('message', resolve));
      const { sendOk, textMessage } = await import('../support/im.js');
      await sendOk(bob, textMessage(aliceId, 'back over plain'));
      expect(messageText(await got)).toBe('back over plain');
    } finally {
      await alice.close();
      bob.close();
    }
  });

  it('a client that does not trust the certificate cannot connect', async () => {
    const id = uniqueUser('untrusting');
    const c = client(srv, id, (await srv.identity(id)).token, true);
    const err = await c.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    expect(String((err as Error).message)).toMatch(/certificate|self.signed/i);
  });

  it('plain bytes on the TLS port are closed; a TLS hello on the plain port is closed too', async () => {
    const raw = await RawClient.connect(srv.server.tlsPort as number);
    raw.send({ command: Command.LOGIN, body: loginBody(await srv.identity(uniqueUser('p'))) });
    expect(await raw.closedWithin(3000)).toBe(true);
    expect(raw.received).toEqual([]);
    const wrongPort = await new Promise<Error | null>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port: srv.port, ca: cert.certPem, servername: 'localhost' });
      s.once('secureConnect', () => resolve(null));
      s.once('error', (e) => resolve(e));
      s.once('close', () => resolve(new Error('closed')));
    });
    expect(wrongPort).toBeInstanceOf(Error);
    // The server is unharmed.
    const { c } = await connectAs(srv.port, await srv.identity(uniqueUser('after')));
    expectStatus(await c.request({ command: Command.PING }), Status.OK);
    c.close();
  });

  it('the CLI sends over TLS with --tls --ca, and fails cleanly without the CA', async () => {
    const [alice, bob] = [uniqueUser('cli-a'), uniqueUser('cli-b')];
    const { c: b } = await connectAs(srv.port, await srv.identity(bob));
    const env = {
      ...process.env,
      IM_JWT_SECRET: srv.config.auth.jwtSecret,
      IM_EDGE_TLS_PORT: String(srv.server.tlsPort),
      IM_DATA_DIR: srv.dataDir,
    };
    const run = (args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d));
        child.stderr.on('data', (d: Buffer) => (err += d));
        child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
      });
    try {
      const ok = await run(['send', '--as', alice, '--tls', '--ca', cert.certFile, bob, 'cli over TLS']);
      expect(ok.err).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.out).toMatch(/^sent to /);
      expect(new TextDecoder().decode((await nextPush(b)).message.messageContent?.data)).toBe('cli over TLS');

      const untrusted = await run(['send', '--as', alice, '--tls', bob, 'nope']);
      expect(untrusted.code).not.toBe(0);
      expect(untrusted.err).toMatch(/certificate|self.signed/i);

      // --rsa over the plain port: the CLI finds the embedded server's development key in IM_DATA_DIR.
      const key = await run(['server-key']);
      expect(key.code).toBe(0);
      expect(key.out).toBe(`${srv.server.serverKeys?.publicKeyPem.trimEnd()}\n`);
      expect(key.err).toContain(srv.server.serverKeys?.fingerprint as string);
      const sealed = await run([
        'send',
        '--as',
        alice,
        '--rsa',
        '--port',
        String(srv.port),
        bob,
        'cli over RSA+AES',
      ]);
      expect(sealed.err).toBe('');
      expect(sealed.code).toBe(0);
      expect(new TextDecoder().decode((await nextPush(b)).message.messageContent?.data)).toBe(
        'cli over RSA+AES',
      );
    } finally {
      b.close();
    }
  }, 60_000);
});

describe('TLS instead of the plain port (edge.plain = false)', () => {
  it('listens on the TLS port only: the plain port it was given refuses', async () => {
    const plainPort = await freePort();
    const srv = await startTestServer({
      edge: {
        port: plainPort,
        plain: false,
        tlsPort: 0,
        tlsCertFile: cert.certFile,
        tlsKeyFile: cert.keyFile,
      },
    });
    try {
      expect(srv.port).toBe(srv.server.tlsPort);
      expect(srv.port).not.toBe(plainPort);
      // Nothing listens on the plain port: the connect is refused, not answered.
      await expect(RawClient.connect(plainPort)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      const id = uniqueUser('only-tls');
      const c = client(srv, id, (await srv.identity(id)).token, {
        ca: cert.certPem,
        servername: 'localhost',
      });
      const login = await c.connect();
      expect(login.heartbeatSeconds).toBeGreaterThan(0);
      expect(await c.ping()).toBeGreaterThanOrEqual(0);
      await c.close();
    } finally {
      await srv.close();
    }
  });

  it('refuses to start with nothing to listen on', async () => {
    await expect(startTestServer({ edge: { plain: false } })).rejects.toThrow(/nothing to listen on/);
  });
});
