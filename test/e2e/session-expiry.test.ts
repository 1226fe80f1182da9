/**
 * protocol.md §6 Session: "A session lasts no longer than the token it logged in with: when the
 * token's exp passes, the server sends a LOGOUT notify with status UNAUTHORIZED and closes the
 * connection; the client logs in again with a fresh token." Tokens here live 2 s and the tolerated
 * clock skew is set to 1 s (IM_JWT_CLOCK_SKEW_SECONDS), so each session ends about 3 s in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImClient, messageText, type UnauthorizedError } from '../../packages/client/src/index.js';
import { waitFor } from '../../packages/client/test/helpers/wait.js';
import { signDevToken } from '../../packages/core/src/index.js';
import { waitFor as waitUntil } from '../../packages/core/test/support.js';
import { Command, codec, Flow, type Message, Status, unpackFlag } from '../../packages/protocol/src/index.js';
import { connectAs, expectStatus, sendOk, textMessage, uniqueUser } from '../support/im.js';
import { isNotify } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

const TOKEN_TTL_S = 2;
const SKEW_S = 1;
/** How long a test waits for a session end it expects: the token, the skew, and slack. */
const END_WITHIN_MS = (TOKEN_TTL_S + SKEW_S + 3) * 1000;

let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer({ auth: { clockSkewSeconds: SKEW_S } });
});

afterAll(async () => {
  await srv?.close();
});

const shortToken = (userId: string) => signDevToken(srv.config.auth.jwtSecret, userId, TOKEN_TTL_S);
const expOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { exp: number }).exp;

describe('the edge ends a session at its token exp (protocol.md §6 Session)', () => {
  it('LOGOUT notify UNAUTHORIZED at exp + skew, not before; then closed and the route removed', async () => {
    const userId = uniqueUser('short');
    const token = await shortToken(userId);
    const { c } = await connectAs(srv.port, { userId, deviceId: 'd1', token });
    expect((await srv.server.presence.devices(userId)).map((d) => d.deviceId)).toEqual(['d1']);
    const notify = await c.next((f) => isNotify(f) && f.command === Command.LOGOUT, END_WITHIN_MS);
    const endedAt = Date.now();
    expect(unpackFlag(notify.flag).flow).toBe(Flow.NOTIFY);
    expectStatus(notify, Status.UNAUTHORIZED);
    expect(codec.ErrorInfo.decode(notify.body).message).toMatch(/token expired/);
    expect(endedAt).toBeGreaterThanOrEqual((expOf(token) + SKEW_S) * 1000 - 20);
    expect(await c.closedWithin(2000)).toBe(true);
    await waitUntil(
      async () => (await srv.server.presence.devices(userId)).length === 0,
      2000,
      'route removal',
    );
    expect(await srv.server.presence.devices(userId)).toEqual([]);
  });

  it('a long-lived token keeps its session past the end of a short one', async () => {
    const { c } = await connectAs(srv.port, await srv.identity(uniqueUser('long')));
    const other = uniqueUser('other');
    const o = await connectAs(srv.port, { userId: other, deviceId: 'd1', token: await shortToken(other) });
    await o.c.next((f) => isNotify(f) && f.command === Command.LOGOUT, END_WITHIN_MS);
    // The short session ended; the long one still answers.
    expectStatus(await c.request({ command: Command.PING }), Status.OK);
    expect(c.received.some((f) => f.command === Command.LOGOUT)).toBe(false);
  });
});

describe('the SDK on a session end (protocol.md §6 Session)', () => {
  it('with a token provider: a fresh token, an immediate login, and a resync by seq', async () => {
    const userId = uniqueUser('sdk');
    const tokens: string[] = [];
    const client = new ImClient({
      host: '127.0.0.1',
      port: srv.port,
      userId,
      deviceId: 'phone',
      getToken: async () => {
        const t = await shortToken(userId);
        tokens.push(t);
        return t;
      },
      lastSeq: 0,
    });
    const got: Message[] = [];
    const expired: UnauthorizedError[] = [];
    let reconnects = 0;
    client.on('message', (m) => got.push(m));
    client.on('expired', (e) => expired.push(e));
    client.on('reconnect', () => reconnects++);
    const sender = await connectAs(srv.port, await srv.identity(uniqueUser('sender')));
    const send = (text: string) => sendOk(sender.c, textMessage(userId, text));
    try {
      await client.connect();
      await send('before');
      // While the session is being replaced: these land in the inbox and come by the resync.
      client.once('expired', () => {
        void send('between 1');
        void send('between 2');
      });
      await waitFor('the session end and the new login', () => reconnects >= 1, END_WITHIN_MS);
      expect(expired[0]?.status).toBe(Status.UNAUTHORIZED);
      expect(expired[0]?.reason).toMatch(/token expired/);
      expect(tokens.length).toBeGreaterThanOrEqual(2);
      expect(tokens[1]).not.toBe(tokens[0]);
      expect(client.state).toBe('connected');
      await waitFor('every message, once, in order', () => got.length === 3);
      expect(got.map(messageText)).toEqual(['before', 'between 1', 'between 2']);
      expect(got.map((m) => m.seq)).toEqual([1, 2, 3]);
    } finally {
      await client.close();
      sender.c.close();
    }
  });

  it('with a fixed token: `expired`, then closed for good (no reconnect with a dead token)', async () => {
    const userId = uniqueUser('fixed');
    const client = new ImClient({
      host: '127.0.0.1',
      port: srv.port,
      userId,
      deviceId: 'phone',
      token: await shortToken(userId),
      backoff: { minMs: 10, maxMs: 20 },
    });
    let expired = 0;
    let reconnects = 0;
    client.on('expired', () => expired++);
    client.on('reconnect', () => reconnects++);
    try {
      await client.connect();
      await waitFor('closed', () => client.state === 'closed', END_WITHIN_MS);
      expect([expired, reconnects]).toEqual([1, 0]);
    } finally {
      await client.close();
    }
  });
});
