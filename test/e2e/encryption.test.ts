/**
 * protocol.md §2 AES (1) and RSA (2) against the embedded server, through a client written from the
 * contract (test/support/secure-client.ts): RSA LOGIN, AES frames both ways, tampering, replay, no
 * downgrade, failed RSA LOGIN, and end-to-end (3) frames on an encrypted connection.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Command,
  Compression,
  codec,
  Encrypt,
  Flow,
  frameAad,
  frameToBytes,
  packFlag,
  rsaSeal,
  SessionCipher,
  Status,
  unpackFlag,
} from '../../packages/protocol/src/index.js';
import {
  connectAs,
  errorOf,
  expectStatus,
  loginBody,
  nextPush,
  sendMessage,
  sendOk,
  textMessage,
  uniqueUser,
} from '../support/im.js';
import { isNotify, isResponse, RawClient } from '../support/raw-client.js';
import { SecureClient } from '../support/secure-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
let serverKey: string;
const open: { close(): void }[] = [];

beforeAll(async () => {
  srv = await startTestServer();
  serverKey = srv.server.serverKeys?.publicKeyPem ?? '';
  expect(serverKey).toContain('BEGIN PUBLIC KEY');
});

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

afterAll(async () => {
  await srv?.close();
});

async function secure(userId = uniqueUser('sec')): Promise<SecureClient> {
  const c = await SecureClient.connect(srv.port);
  open.push(c);
  const res = await c.rsaLogin(await srv.identity(userId), serverKey);
  expect(res.wireEncrypt).toBe(Encrypt.AES);
  expectStatus(res, Status.OK);
  return c;
}

async function plain(userId = uniqueUser('plain')): Promise<RawClient> {
  const { c } = await connectAs(srv.port, await srv.identity(userId));
  open.push(c);
  return c;
}

describe('RSA (2) LOGIN, then AES (1) both ways', () => {
  it('the LOGIN answer is AES; later requests, answers and notifies are AES too', async () => {
    const aliceId = uniqueUser('alice');
    const bobId = uniqueUser('bob');
    const alice = await secure(aliceId);
    const bob = await secure(bobId);

    const ping = await alice.request({ command: Command.PING });
    expect([ping.status, ping.wireEncrypt, ping.body.length]).toEqual([Status.OK, Encrypt.AES, 0]);

    const sent = await alice.request({
      command: Command.MS,
      body: codec.Message.encode(textMessage(bobId, 'sealed hi')),
    });
    expect(sent.wireEncrypt).toBe(Encrypt.AES);
    const ack = codec.SendAck.decode(expectStatus(sent, Status.OK).body);

    const push = await bob.next((f) => isNotify(f) && f.command === Command.MPS);
    expect(push.wireEncrypt).toBe(Encrypt.AES);
    const m = codec.Message.decode(push.body);
    expect([m.messageUid, m.from, new TextDecoder().decode(m.messageContent?.data)]).toEqual([
      ack.messageUid,
      aliceId,
      'sealed hi',
    ]);
    // Nothing on the wire for bob was readable without the key: every frame he got was AES.
    expect(bob.raw.received.every((f) => unpackFlag(f.flag).encrypt === Encrypt.AES)).toBe(true);
  });

  it('a plain client and an encrypted one talk to each other', async () => {
    const bobId = uniqueUser('bob');
    const alice = await secure();
    const bob = await plain(bobId);
    const res = await alice.request({
      command: Command.MS,
      body: codec.Message.encode(textMessage(bobId, 'mixed')),
    });
    expectStatus(res, Status.OK);
    const { frame, message } = await nextPush(bob);
    expect(unpackFlag(frame.flag).encrypt).toBe(Encrypt.NONE);
    expect(new TextDecoder().decode(message.messageContent?.data)).toBe('mixed');
  });

  it('gzip and AES together: compress, then encrypt; a large answer comes back gzip + AES', async () => {
    const me = uniqueUser('zip');
    const alice = await secure(me);
    const big = 'x'.repeat(3000);
    for (let i = 0; i < 3; i++) {
      const res = await alice.request({
        command: Command.MS,
        compression: Compression.GZIP,
        body: gzipSync(codec.Message.encode(textMessage(uniqueUser('peer'), `${big}${i}`))),
      });
      expectStatus(res, Status.OK);
    }
    const pull = await alice.request({
      command: Command.MP,
      compression: Compression.GZIP,
      body: gzipSync(codec.PullRequest.encode({ since: 0, limit: 10 })),
    });
    expectStatus(pull, Status.OK);
    expect(unpackFlag(pull.flag).compression).toBe(Compression.GZIP);
    expect(pull.wireEncrypt).toBe(Encrypt.AES);
    expect(codec.PullResponse.decode(gunzipSync(pull.body)).messages).toHaveLength(3);
  });
});

describe('refusals on an encrypted connection (protocol.md §2, §3)', () => {
  it('a tampered header fails authentication: BAD_REQUEST, then closed', async () => {
    const c = await secure();
    const seq = c.raw.nextSeq();
    const flag = packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.AES });
    const cipher = c.cipher as SessionCipher;
    // Sealed as a PING, sent as an MP: the AAD no longer matches.
    const body = cipher.seal({ seq, command: Command.PING, flag, status: 0 }, new Uint8Array(0));
    c.raw.send({ seq, command: Command.MP, flag, body });
    const res = c.open(await c.raw.next((f) => isResponse(f) && f.seq === seq));
    expect(res.wireEncrypt).toBe(Encrypt.AES);
    expectStatus(res, Status.BAD_REQUEST);
    expect(codec.ErrorInfo.decode(res.body).message).toMatch(/authenticate/);
    expect(await c.raw.closedWithin(2000)).toBe(true);
  });

  it('a flipped body bit fails authentication the same way', async () => {
    const c = await secure();
    const seq = c.raw.nextSeq();
    const flag = packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.AES });
    const body = (c.cipher as SessionCipher).seal(
      { seq, command: Command.PING, flag, status: 0 },
      Uint8Array.of(1),
    );
    body[14] = (body[14] as number) ^ 0x01;
    c.raw.send({ seq, command: Command.PING, flag, body });
    expectStatus(c.open(await c.raw.next((f) => isResponse(f) && f.seq === seq)), Status.BAD_REQUEST);
    expect(await c.raw.closedWithin(2000)).toBe(true);
  });

  it('a replayed frame: BAD_REQUEST, then closed', async () => {
    const c = await secure();
    const seq = c.raw.nextSeq();
    const flag = packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.AES });
    const body = (c.cipher as SessionCipher).seal(
      { seq, command: Command.PING, flag, status: 0 },
      new Uint8Array(0),
    );
    const bytes = frameToBytes({ seq, command: Command.PING, flag, status: 0, body });
    c.raw.write(bytes);
    expectStatus(c.open(await c.raw.next((f) => isResponse(f) && f.seq === seq)), Status.OK);
    c.raw.write(bytes); // the attacker replays the captured frame
    const res = c.open(await c.raw.next((f) => isResponse(f) && f.seq === seq));
    expectStatus(res, Status.BAD_REQUEST);
    expect(codec.ErrorInfo.decode(res.body).message).toMatch(/replayed or old seq/);
    expect(await c.raw.closedWithin(2000)).toBe(true);
  });

  it('an old seq (validly sealed, but lower than one already seen): BAD_REQUEST, then closed', async () => {
    const c = await secure();
    expectStatus(await c.request({ command: Command.PING, seq: 50 }), Status.OK);
    const res = await c.request({ command: Command.PING, seq: 49 });
    expectStatus(res, Status.BAD_REQUEST);
    expect(await c.raw.closedWithin(2000)).toBe(true);
  });

  it('a plain frame after the session key: BAD_REQUEST, then closed (no downgrade)', async () => {
    const c = await secure();
    const res = c.open(await c.raw.request({ command: Command.PING }));
    expect(res.wireEncrypt).toBe(Encrypt.AES);
    expectStatus(res, Status.BAD_REQUEST);
    expect(codec.ErrorInfo.decode(res.body).message).toMatch(/sealed with the session key/);
    expect(await c.raw.closedWithin(2000)).toBe(true);
  });

  it('unsealed frames marked E2E (3) or RSA (2): BAD_REQUEST, then closed, whatever the command', async () => {
    for (const [encrypt, command] of [
      [Encrypt.E2E, Command.PING],
      [Encrypt.E2E, Command.MP],
      [Encrypt.RSA, Command.PING],
      [Encrypt.RSA, Command.LOGIN],
    ] as const) {
      const c = await secure();
      const body = command === Command.MP ? codec.PullRequest.encode({ since: 0, limit: 1 }) : undefined;
      const res = c.open(await c.raw.request({ command, body, flag: packFlag({ encrypt }) }));
      expectStatus(res, Status.BAD_REQUEST);
      expect(await c.raw.closedWithin(2000)).toBe(true);
    }
  });

  it('a sealed frame marked E2E (3) on anything but MS: BAD_REQUEST, stays open', async () => {
    const c = await secure();
    const res = await c.request({ command: Command.PING, e2e: true });
    expect(res.wireEncrypt).toBe(Encrypt.AES);
    expectStatus(res, Status.BAD_REQUEST);
    expect(codec.ErrorInfo.decode(res.body).message).toMatch(/only valid on MS/);
    expectStatus(await c.request({ command: Command.PING }), Status.OK);
  });

  it('a plain second LOGIN is BAD_REQUEST and closes (protocol.md §6 Session)', async () => {
    const id = await srv.identity(uniqueUser('x'));
    const c = await secure(id.userId);
    const res = c.open(await c.raw.request({ command: Command.LOGIN, body: loginBody(id) }));
    expectStatus(res, Status.BAD_REQUEST);
    expect(await c.raw.closedWithin(2000)).toBe(true);
  });

  it('a second LOGIN, even sealed, is BAD_REQUEST and closes', async () => {
    const c = await secure();
    const res = await c.request({
      command: Command.LOGIN,
      body: loginBody(await srv.identity(uniqueUser('x'))),
    });
    expectStatus(res, Status.BAD_REQUEST);
    expect(await c.raw.closedWithin(2000)).toBe(true);
  });
});

describe('RSA LOGIN failures (protocol.md §2 RSA)', () => {
  it('a failed RSA LOGIN leaves no session secret: AES is then UNSUPPORTED and a plain LOGIN works', async () => {
    const c = await SecureClient.connect(srv.port);
    open.push(c);
    const id = await srv.identity(uniqueUser('fail'));
    const res = await c.rsaLogin({ ...id, token: 'not-a-jwt' }, serverKey);
    expect(res.wireEncrypt).toBe(Encrypt.AES); // answered with the key the LOGIN carried
    expectStatus(res, Status.UNAUTHORIZED);
    expect(c.cipher).toBeNull();
    // The secret of the failed LOGIN is not the connection's: an AES frame has no key to use.
    const seq = c.raw.nextSeq();
    const flag = packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.AES });
    c.raw.send({ seq, command: Command.PING, flag, body: new Uint8Array(28) });
    expectStatus(await c.raw.next((f) => isResponse(f) && f.seq === seq), Status.UNSUPPORTED);
    // Plain frames are not refused as a downgrade, and a plain LOGIN succeeds.
    const login = await c.raw.request({ command: Command.LOGIN, body: loginBody(id) });
    expect(unpackFlag(login.flag).encrypt).toBe(Encrypt.NONE);
    expectStatus(login, Status.OK);
    expectStatus(await c.raw.request({ command: Command.PING }), Status.OK);
  });

  it('an RSA body that does not decrypt: BAD_REQUEST, then closed', async () => {
    const c = await RawClient.connect(srv.port);
    open.push(c);
    const flag = packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.RSA });
    const garbage = new Uint8Array(2 + 256 + 40);
    garbage[0] = 1; // keyLen 256
    const res = await c.request({ command: Command.LOGIN, flag, body: garbage });
    expectStatus(res, Status.BAD_REQUEST);
    expect(await c.closedWithin(2000)).toBe(true);
  });

  it('an RSA LOGIN sealed to another key: BAD_REQUEST, then closed', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const c = await RawClient.connect(srv.port);
    open.push(c);
    const flag = packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.RSA });
    const header = { seq: 1, command: Command.LOGIN, flag, status: 0 };
    const { body } = rsaSeal(other, frameAad(header), loginBody(await srv.identity(uniqueUser('k'))));
    c.send({ ...header, body });
    expectStatus(await c.next((f) => isResponse(f) && f.seq === 1), Status.BAD_REQUEST);
    expect(await c.closedWithin(2000)).toBe(true);
  });

  it('RSA on anything but LOGIN, and AES before a session: UNSUPPORTED, stays open', async () => {
    const c = await plain();
    for (const encrypt of [Encrypt.RSA, Encrypt.AES]) {
      const res = await c.request({ command: Command.PING, flag: packFlag({ encrypt }) });
      expectStatus(res, Status.UNSUPPORTED);
      expect(errorOf(res).message.length).toBeGreaterThan(0);
    }
    expectStatus(await c.request({ command: Command.PING }), Status.OK);
  });
});

describe('RSA freshness: clientTime and replays (protocol.md §2)', () => {
  /** One RSA LOGIN frame as bytes (what an on-path attacker records), and the secret it carries. */
  async function rsaLoginBytes(
    userId: string,
    clientTime: number | undefined,
    server = srv,
  ): Promise<{ bytes: Uint8Array; cipher: SessionCipher }> {
    const header = { seq: 1, command: Command.LOGIN, flag: packFlag({ encrypt: Encrypt.RSA }), status: 0 };
    const body = codec.LoginRequest.encode({
      ...codec.LoginRequest.decode(loginBody(await server.identity(userId))),
      clientTime: clientTime ?? 0,
    });
    const sealed = rsaSeal(server.server.serverKeys?.publicKeyPem as string, frameAad(header), body);
    return {
      bytes: frameToBytes({ ...header, body: sealed.body }),
      cipher: new SessionCipher(sealed.secret, 'client'),
    };
  }

  async function loginWith(bytes: Uint8Array, cipher: SessionCipher, port = srv.port) {
    const c = await RawClient.connect(port);
    open.push(c);
    c.write(bytes);
    const res = await c.next((f) => isResponse(f) && f.seq === 1);
    expect(unpackFlag(res.flag).encrypt).toBe(Encrypt.AES);
    return { c, status: res.status, body: cipher.open(res, res.body) };
  }

  it('a recorded RSA LOGIN replayed on a new connection: UNAUTHORIZED, and the real device is not kicked', async () => {
    const userId = uniqueUser('replayed');
    const { bytes, cipher } = await rsaLoginBytes(userId, Date.now());
    const real = await loginWith(bytes, cipher);
    expect(real.status).toBe(Status.OK);
    const replay = await loginWith(bytes, cipher);
    expect(replay.status).toBe(Status.UNAUTHORIZED);
    expect(codec.ErrorInfo.decode(replay.body).message).toMatch(/seen before/);
    // The real connection was not kicked: it still answers, and it holds the route.
    const ping = await real.c.request({
      command: Command.PING,
      seq: 2,
      flag: packFlag({ encrypt: Encrypt.AES }),
      body: cipher.seal(
        { seq: 2, command: Command.PING, flag: packFlag({ encrypt: Encrypt.AES }), status: 0 },
        new Uint8Array(0),
      ),
    });
    expect(ping.status).toBe(Status.OK);
    expect(real.c.received.some((f) => f.status === Status.KICKED)).toBe(false);
    expect((await srv.server.presence.devices(userId)).map((d) => d.deviceId)).toEqual(['d1']);
  });

  it('no clientTime: UNAUTHORIZED, a strike, and no session secret', async () => {
    const { bytes, cipher } = await rsaLoginBytes(uniqueUser('notime'), undefined);
    const res = await loginWith(bytes, cipher);
    expect(res.status).toBe(Status.UNAUTHORIZED);
    expect(codec.ErrorInfo.decode(res.body).message).toMatch(/must carry LoginRequest.clientTime/);
    // Still pre-login and plain: a plain PING is UNAUTHORIZED (not a decrypt failure).
    expectStatus(await res.c.request({ command: Command.PING, seq: 2 }), Status.UNAUTHORIZED);
  });

  it('a clientTime past the window, either way: UNAUTHORIZED; within it: OK', async () => {
    const window = srv.config.edge.rsaLoginWindowMs;
    expect(window).toBe(5 * 60_000);
    for (const [off, status] of [
      [-window - 5_000, Status.UNAUTHORIZED],
      [window + 5_000, Status.UNAUTHORIZED],
      [-window + 30_000, Status.OK],
      [window - 30_000, Status.OK],
    ] as const) {
      const { bytes, cipher } = await rsaLoginBytes(uniqueUser('clock'), Date.now() + off);
      const res = await loginWith(bytes, cipher);
      expect([off, res.status]).toEqual([off, status]);
      if (status !== Status.OK) {
        expect(codec.ErrorInfo.decode(res.body).message).toMatch(/off the server's clock/);
      }
    }
  });

  it('the window is configurable (IM_RSA_LOGIN_WINDOW_MS)', async () => {
    const narrow = await startTestServer({ edge: { rsaLoginWindowMs: 2_000 } });
    try {
      const stale = await rsaLoginBytes(uniqueUser('narrow'), Date.now() - 10_000, narrow);
      expect((await loginWith(stale.bytes, stale.cipher, narrow.port)).status).toBe(Status.UNAUTHORIZED);
      const fresh = await rsaLoginBytes(uniqueUser('narrow'), Date.now(), narrow);
      expect((await loginWith(fresh.bytes, fresh.cipher, narrow.port)).status).toBe(Status.OK);
    } finally {
      await narrow.close();
    }
  });
});

describe('end-to-end (3) on an encrypted connection (protocol.md §2)', () => {
  it('MS marked E2E is sealed on the wire, acked with AES, and delivered sealed marked encrypt = 3', async () => {
    const bobId = uniqueUser('bob');
    const alice = await secure();
    const bob = await secure(bobId);
    const sealed = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3]);
    const m = textMessage(bobId, '', { content: { data: sealed, searchableContent: '' } });
    const res = await alice.request({ command: Command.MS, body: codec.Message.encode(m), e2e: true });
    expect(res.wireEncrypt).toBe(Encrypt.AES);
    const ack = codec.SendAck.decode(expectStatus(res, Status.OK).body);
    const raw = await bob.raw.next((f) => isNotify(f) && f.command === Command.MPS);
    expect(unpackFlag(raw.flag).encrypt).toBe(Encrypt.E2E);
    const push = bob.open(raw);
    expect(push.wireEncrypt).toBe(Encrypt.E2E);
    // On the wire: nonce (12) ‖ ciphertext ‖ tag (16), not the Message: its bytes are nowhere in it.
    // (Not "fails to decode as a Message": random bytes sometimes do.)
    expect(raw.body.length).toBe(push.body.length + 12 + 16);
    expect(Buffer.from(raw.body).indexOf(Buffer.from(sealed))).toBe(-1);
    const got = codec.Message.decode(push.body);
    expect([got.messageUid, got.messageContent?.data]).toEqual([ack.messageUid, sealed]);
  });

  it('an unsealed E2E MS injected on an encrypted connection: BAD_REQUEST, closed; nothing stored or delivered', async () => {
    const aliceId = uniqueUser('alice');
    const bobId = uniqueUser('bob');
    const alice = await secure(aliceId);
    const bob = await secure(bobId);
    const before = bob.raw.received.length;
    // What an on-path attacker can write: the next seq, the E2E flag, a Message in the clear.
    const forged = textMessage(bobId, '', {
      content: { data: Uint8Array.of(1, 2, 3), searchableContent: '' },
    });
    const seq = alice.raw.nextSeq();
    alice.raw.send({
      seq,
      command: Command.MS,
      flag: packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.E2E }),
      body: codec.Message.encode({ ...forged, from: aliceId }),
    });
    const res = alice.open(await alice.raw.next((f) => isResponse(f) && f.seq === seq));
    expect(res.wireEncrypt).toBe(Encrypt.AES);
    expectStatus(res, Status.BAD_REQUEST);
    expect(await alice.raw.closedWithin(2000)).toBe(true);
    // Nothing in either inbox, nothing pushed: a message sent after it is the first bob gets.
    const check = await plain(aliceId);
    const inbox = codec.PullResponse.decode(
      expectStatus(
        await check.request({ command: Command.MP, body: codec.PullRequest.encode({ since: 0 }) }),
        0,
      ).body,
    );
    expect(inbox.messages).toEqual([]);
    const ack = await sendOk(check, textMessage(bobId, 'after'));
    const push = await bob.next((f) => isNotify(f) && f.command === Command.MPS);
    expect(codec.Message.decode(push.body).messageUid).toBe(ack.messageUid);
    expect(bob.raw.received.slice(before).filter((f) => f.command === Command.MPS)).toHaveLength(1);
    const bobInbox = await bob.request({
      command: Command.MP,
      body: codec.PullRequest.encode({ since: 0 }),
    });
    expect(codec.PullResponse.decode(bobInbox.body).messages.map((x) => x.messageUid)).toEqual([
      ack.messageUid,
    ]);
  });

  it('E2E MS with searchableContent or pushContent: BAD_REQUEST (plain and encrypted connections)', async () => {
    const alice = await secure();
    const leaky = [
      textMessage(uniqueUser('b'), 'plaintext!'),
      textMessage(uniqueUser('b'), '', { content: { searchableContent: '', pushContent: 'push text' } }),
    ];
    for (const m of leaky) {
      const res = await alice.request({ command: Command.MS, body: codec.Message.encode(m), e2e: true });
      expectStatus(res, Status.BAD_REQUEST);
      expect(codec.ErrorInfo.decode(res.body).message).toMatch(/searchableContent|pushContent/);
    }
    const p = await plain();
    const e2eFlag = packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.E2E });
    for (const m of leaky) expectStatus(await sendMessage(p, m, e2eFlag), Status.BAD_REQUEST);
    expectStatus(await p.request({ command: Command.PING }), Status.OK);
  });

  it('a plain sender reaches an encrypted receiver with AES-sealed pushes', async () => {
    const bobId = uniqueUser('bob');
    const bob = await secure(bobId);
    const a = await plain();
    const ack = await sendOk(a, textMessage(bobId, 'to a sealed peer'));
    const push = await bob.next((f) => isNotify(f) && f.command === Command.MPS);
    expect(push.wireEncrypt).toBe(Encrypt.AES);
    expect(codec.Message.decode(push.body).messageUid).toBe(ack.messageUid);
  });
});
