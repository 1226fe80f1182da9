/**
 * The edge over real TCP with fake services: what only the edge decides (ordering, batching,
 * error mapping, kicks, slow readers, route refresh, shutdown). Protocol behaviour against the
 * real services is covered by test/e2e.
 */
import { gunzipSync } from 'node:zlib';
import {
  type Config,
  type Delivery,
  encodeForDelivery,
  loadConfig,
  RECALL_DEVICE,
  SERVER_DEVICE_PREFIX,
  type StoredMessage,
} from '@im/core';
import {
  Command,
  Compression,
  codec,
  Encrypt,
  Flow,
  ImError,
  packFlag,
  Status,
  unpackFlag,
} from '@im/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../../../test/support/raw-client.js';
import { drainPlan } from '../src/drain-plan.js';
import { createEdge, type Edge } from '../src/index.js';
import { FakeBus, FakeMessages, FakePresence, fakeVerifier } from './fakes.js';

const NODE = 'edge-test';

interface Harness {
  edge: Edge;
  port: number;
  /** The WebSocket port (protocol.md §1): where a scenario runs over both transports. */
  wsPort: number;
  bus: FakeBus;
  presence: FakePresence;
  messages: FakeMessages;
  config: Config;
}

const open: { edge: Edge; clients: RawClient[] }[] = [];

async function start(edgeOverrides: Partial<Config['edge']> = {}): Promise<Harness> {
  const config = loadConfig(
    {},
    { nodeId: NODE, edge: { host: '127.0.0.1', port: 0, ws: true, wsPort: 0, ...edgeOverrides } },
  );
  const bus = new FakeBus();
  const presence = new FakePresence();
  const messages = new FakeMessages();
  const edge = createEdge({
    config,
    nodeId: NODE,
    message: messages,
    presence,
    bus,
    verifier: fakeVerifier,
    logger: pino({ level: 'silent' }),
  });
  const { port, wsPort } = await edge.listen();
  open.push({ edge, clients: [] });
  return { edge, port, wsPort: wsPort as number, bus, presence, messages, config };
}

async function client(port: number, transport: 'tcp' | 'ws' = 'tcp'): Promise<RawClient> {
  const c = await RawClient.open({ host: '127.0.0.1', port, transport });
  open.at(-1)?.clients.push(c);
  return c;
}

async function loggedIn(
  port: number,
  userId: string,
  deviceId: string,
  transport: 'tcp' | 'ws' = 'tcp',
): Promise<RawClient> {
  const c = await client(port, transport);
  const res = await c.request({
    command: Command.LOGIN,
    body: codec.LoginRequest.encode({ userId, deviceId, token: `ok:${userId}` }),
  });
  expect(res.status).toBe(Status.OK);
  return c;
}

function stored(uid: bigint, text: string, e2e = false): StoredMessage {
  return {
    uid,
    messageId: uid,
    from: 'alice',
    fromDevice: 'a1',
    to: 'bob',
    conversation: { type: 0, target: 'bob' },
    content: {
      contentType: 1,
      searchableContent: '',
      pushContent: '',
      data: new TextEncoder().encode(text),
      mentionedType: 0,
      mentionedTargets: [],
      mediaType: 0,
      msgLength: 0,
      remoteMediaUrl: '',
      localMediaPath: '',
    },
    serverTime: 1234,
    e2e,
  };
}

const msg = (userId: string, uid: bigint, seq: number, extra: Partial<Delivery> = {}): Delivery =>
  ({
    kind: 'message',
    nodeId: NODE,
    userId,
    message: encodeForDelivery(stored(uid, `m${uid}`)),
    seq,
    ...extra,
  }) as Delivery;

afterEach(async () => {
  for (const { edge, clients } of open.splice(0)) {
    for (const c of clients) c.close();
    await edge.close();
  }
});

describe('edge: LOGIN and the session', () => {
  it('answers LOGIN with LoginResponse (head from the message service, heartbeat from config)', async () => {
    const h = await start({ heartbeatSeconds: 42 });
    const c = await client(h.port);
    const res = await c.request({
      command: Command.LOGIN,
      body: codec.LoginRequest.encode({ userId: 'bob', deviceId: 'b1', token: 'ok:bob', platform: 2 }),
    });
    expect(res.status).toBe(Status.OK);
    expect(unpackFlag(res.flag).flow).toBe(Flow.RESPONSE);
    const body = codec.LoginResponse.decode(res.body);
    expect(body.head).toBe(7);
    expect(body.heartbeatSeconds).toBe(42);
    expect(body.sessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(h.presence.logins).toEqual([
      { userId: 'bob', deviceId: 'b1', nodeId: NODE, platform: 2, publicKey: new Uint8Array(0) },
    ]);
  });

  it('refuses a deviceId with the reserved prefix "server:" (BAD_REQUEST with the reason)', async () => {
    expect(RECALL_DEVICE.startsWith(SERVER_DEVICE_PREFIX)).toBe(true);
    const h = await start();
    const c = await client(h.port);
    for (const deviceId of [RECALL_DEVICE, 'server:anything']) {
      const res = await c.request({
        command: Command.LOGIN,
        body: codec.LoginRequest.encode({ userId: 'bob', deviceId, token: 'ok:bob' }),
      });
      expect(res.status).toBe(Status.BAD_REQUEST);
      expect(codec.ErrorInfo.decode(res.body).message).toBe(
        'deviceId prefix "server:" is reserved for the server',
      );
    }
    expect(h.presence.logins).toEqual([]);
    // Only the prefix is reserved.
    const ok = await c.request({
      command: Command.LOGIN,
      body: codec.LoginRequest.encode({ userId: 'bob', deviceId: 'my-server:1', token: 'ok:bob' }),
    });
    expect(ok.status).toBe(Status.OK);
  });

  it('a delivery racing the LOGIN is written after the LOGIN response', async () => {
    const h = await start();
    h.messages.duringHead = async () => {
      // Registered locally but the LOGIN response is not written yet: the push must wait for it.
      await h.bus.deliver([msg('bob', 1n, 1)]);
    };
    const c = await client(h.port);
    const seq = c.send({
      command: Command.LOGIN,
      body: codec.LoginRequest.encode({ userId: 'bob', deviceId: 'b1', token: 'ok:bob' }),
    });
    const first = await c.next();
    expect(first.command).toBe(Command.LOGIN);
    expect(first.seq).toBe(seq);
    const push = await c.next();
    expect(push.command).toBe(Command.MPS);
  });

  it('on close the route is removed with its epoch and joined chatrooms are left', async () => {
    const h = await start();
    const c = await loggedIn(h.port, 'bob', 'b1');
    const join = await c.request({
      command: Command.CRJ,
      body: codec.ChatroomRequest.encode({ chatroomId: 'r1' }),
    });
    expect(join.status).toBe(Status.OK);
    c.close();
    await expect.poll(() => h.presence.logouts).toEqual([['bob', 'b1', 1]]);
    await expect.poll(() => h.messages.quits).toEqual(['r1']);
  });

  it('CRJ to an unknown chatroom answers the service status with ErrorInfo', async () => {
    const h = await start();
    const c = await loggedIn(h.port, 'bob', 'b1');
    const res = await c.request({
      command: Command.CRJ,
      body: codec.ChatroomRequest.encode({ chatroomId: 'missing' }),
    });
    expect(res.status).toBe(Status.NOT_FOUND);
    expect(codec.ErrorInfo.decode(res.body).message).toBe('no such chatroom');
  });
});

describe('edge: requests of one connection are handled in order', () => {
  it('a slow first MS is acked before a fast second one, and the second starts after the first', async () => {
    const h = await start();
    const events: string[] = [];
    h.messages.sendImpl = async (_c, m) => {
      events.push(`start ${m.messageId}`);
      await new Promise((r) => setTimeout(r, m.messageId === 1n ? 80 : 0));
      events.push(`end ${m.messageId}`);
      return { messageUid: m.messageId, serverTime: 1, seq: Number(m.messageId) };
    };
    const c = await loggedIn(h.port, 'alice', 'a1');
    const body = (id: bigint) =>
      codec.Message.encode({
        messageId: id,
        conversation: { type: 0, target: 'bob' },
        messageContent: { contentType: 1 },
      });
    const s1 = c.send({ command: Command.MS, body: body(1n) });
    const s2 = c.send({ command: Command.MS, body: body(2n) });
    const r1 = await c.next((f) => f.command === Command.MS);
    const r2 = await c.next((f) => f.command === Command.MS);
    expect([r1.seq, r2.seq]).toEqual([s1, s2]);
    expect(codec.SendAck.decode(r2.body).seq).toBe(2);
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });
});

describe('edge: order of checks (dispatch.ts): the first failing check answers', () => {
  const f = (parts: Parameters<typeof packFlag>[0]) => packFlag(parts);
  it.each([
    ['flow before compression', f({ flow: 1, compression: 2 }), 42, Status.BAD_REQUEST],
    ['flow before command', f({ flow: 2 }), 42, Status.BAD_REQUEST],
    ['compression before command', f({ compression: 3 }), 42, Status.UNSUPPORTED],
    ['AES before command', f({ encrypt: Encrypt.AES }), Command.MN, Status.UNSUPPORTED],
    ['E2E off MS before command', f({ encrypt: Encrypt.E2E }), 42, Status.BAD_REQUEST],
    ['unknown command before login check', 0, 42, Status.UNSUPPORTED],
    ['server-only command before login check', 0, Command.MPS, Status.BAD_REQUEST],
    ['login check before gzip', f({ compression: Compression.GZIP }), Command.MP, Status.UNAUTHORIZED],
    ['login check before body', 0, Command.MS, Status.UNAUTHORIZED],
  ])('%s (before LOGIN)', async (_name, flag, command, status) => {
    const h = await start();
    const c = await client(h.port);
    const res = await c.request({ command, flag, body: Uint8Array.of(0xff) });
    expect(res.status).toBe(status);
    expect(codec.ErrorInfo.decode(res.body).message.length).toBeGreaterThan(0);
  });

  it('gzip is inflated before the handler decodes the body (a corrupt gzip is BAD_REQUEST)', async () => {
    const h = await start();
    const c = await loggedIn(h.port, 'bob', 'b1');
    const res = await c.request({
      command: Command.MP,
      flag: packFlag({ compression: Compression.GZIP }),
      body: Uint8Array.of(1, 2, 3),
    });
    expect(res.status).toBe(Status.BAD_REQUEST);
    expect(codec.ErrorInfo.decode(res.body).message).toMatch(/gzip/);
  });
});

describe('edge: error mapping (protocol.md §3)', () => {
  it.each([
    [
      'an ImError keeps its status and retryAfterMs',
      new ImError(Status.TOO_MANY_REQUESTS, 'slow down', { retryAfterMs: 500 }),
      Status.TOO_MANY_REQUESTS,
      500,
    ],
    [
      'an unreachable backend is UNAVAILABLE',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      Status.UNAVAILABLE,
      0,
    ],
    ['anything else is INTERNAL', new Error('boom'), Status.INTERNAL, 0],
  ])('%s', async (_name, error, status, retryAfterMs) => {
    const h = await start();
    h.messages.sendImpl = async () => {
      throw error;
    };
    const c = await loggedIn(h.port, 'alice', 'a1');
    const res = await c.request({
      command: Command.MS,
      body: codec.Message.encode({ messageId: 1n, conversation: { type: 0, target: 'bob' } }),
    });
    expect(res.status).toBe(status);
    const info = codec.ErrorInfo.decode(res.body);
    expect(info.message.length).toBeGreaterThan(0);
    expect(info.message).not.toContain('boom'); // internals are not leaked to the client
    expect(info.retryAfterMs).toBe(retryAfterMs);
    // The connection stays open after a request error.
    expect((await c.request({ command: Command.PING })).status).toBe(Status.OK);
  });

  it('E2E flag on MS reaches the service as e2e = true', async () => {
    const h = await start();
    const c = await loggedIn(h.port, 'alice', 'a1');
    const res = await c.request({
      command: Command.MS,
      flag: packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.E2E }),
      body: codec.Message.encode({ messageId: 9n, conversation: { type: 0, target: 'bob' } }),
    });
    expect(res.status).toBe(Status.OK);
    expect(h.messages.sends.map((s) => s.opts.e2e)).toEqual([true]);
    expect(h.messages.sends[0]?.caller).toEqual({ userId: 'alice', deviceId: 'a1', nodeId: NODE, epoch: 1 });
  });

  it('a large response to a gzip request is gzip; a small one is not', async () => {
    const h = await start();
    const big = 'x'.repeat(5000);
    h.messages.pullImpl = async (_c, req) => ({
      messages:
        req.since === 0
          ? [{ messageId: 1n, from: big, to: 'bob', messageUid: 1n, serverTime: 1, seq: 1 }]
          : [],
      head: 1,
      hasMore: false,
    });
    const c = await loggedIn(h.port, 'bob', 'b1');
    const gz = packFlag({ flow: Flow.REQUEST, compression: Compression.GZIP });
    const { gzipSync } = await import('node:zlib');
    const large = await c.request({
      command: Command.MP,
      flag: gz,
      body: gzipSync(codec.PullRequest.encode({ since: 0 })),
    });
    expect(unpackFlag(large.flag).compression).toBe(Compression.GZIP);
    expect(codec.PullResponse.decode(gunzipSync(large.body)).messages[0]?.from).toBe(big);
    const small = await c.request({
      command: Command.MP,
      flag: gz,
      body: gzipSync(codec.PullRequest.encode({ since: 5 })),
    });
    expect(unpackFlag(small.flag).compression).toBe(Compression.NONE);
    expect(codec.PullResponse.decode(small.body).head).toBe(1);
  });
});

describe('edge: deliveries from the bus', () => {
  it('MPS to every device but the excluded one, notify seq counting from 1 per connection, e2e marked', async () => {
    const h = await start();
    const phone = await loggedIn(h.port, 'bob', 'phone');
    const laptop = await loggedIn(h.port, 'bob', 'laptop');
    await h.bus.deliver([
      msg('bob', 10n, 1),
      msg('bob', 11n, 2, { excludeDeviceId: 'laptop' }),
      {
        kind: 'message',
        nodeId: NODE,
        userId: 'bob',
        message: encodeForDelivery(stored(12n, 'secret', true)),
        seq: 3,
      },
      { kind: 'notify', nodeId: NODE, userId: 'bob', head: 3 },
    ]);
    const phoneFrames = [await phone.next(), await phone.next(), await phone.next(), await phone.next()];
    expect(phoneFrames.map((f) => [f.command, f.seq, unpackFlag(f.flag).flow])).toEqual([
      [Command.MPS, 1, Flow.NOTIFY],
      [Command.MPS, 2, Flow.NOTIFY],
      [Command.MPS, 3, Flow.NOTIFY],
      [Command.MN, 4, Flow.NOTIFY],
    ]);
    const first = codec.Message.decode(phoneFrames[0]?.body ?? new Uint8Array());
    expect([first.messageUid, first.seq, first.serverTime, first.from]).toEqual([10n, 1, 1234, 'alice']);
    expect(unpackFlag(phoneFrames[2]?.flag ?? 0).encrypt).toBe(Encrypt.E2E);
    expect(codec.Notify.decode(phoneFrames[3]?.body ?? new Uint8Array()).head).toBe(3);

    const laptopFrames = [await laptop.next(), await laptop.next(), await laptop.next()];
    expect(laptopFrames.map((f) => [f.command, f.seq])).toEqual([
      [Command.MPS, 1],
      [Command.MPS, 2],
      [Command.MN, 3],
    ]);
    expect(codec.Message.decode(laptopFrames[1]?.body ?? new Uint8Array()).messageUid).toBe(12n);
  });

  it('a kick with the connection epoch: LOGOUT notify KICKED + ErrorInfo, closed, route NOT removed', async () => {
    const h = await start();
    const c = await loggedIn(h.port, 'bob', 'b1');
    await h.bus.deliver([{ kind: 'kick', nodeId: NODE, userId: 'bob', deviceId: 'b1', epoch: 2 }]);
    // A stale epoch is ignored.
    expect((await c.request({ command: Command.PING })).status).toBe(Status.OK);
    await h.bus.deliver([{ kind: 'kick', nodeId: NODE, userId: 'bob', deviceId: 'b1', epoch: 1 }]);
    const kick = await c.next();
    expect([kick.command, kick.status, unpackFlag(kick.flag).flow]).toEqual([
      Command.LOGOUT,
      Status.KICKED,
      Flow.NOTIFY,
    ]);
    expect(codec.ErrorInfo.decode(kick.body).message).toMatch(/elsewhere/);
    expect(await c.closedWithin(2000)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.presence.logouts).toEqual([]);
  });

  it.each(['tcp', 'ws'] as const)(
    'a client that stops reading is disconnected when its unsent output passes the bound (%s)',
    async (transport) => {
      const h = await start({ maxOutboundBytes: 256 * 1024 });
      const c = await loggedIn(transport === 'ws' ? h.wsPort : h.port, 'bob', 'b1', transport);
      c.pauseReading();
      const big = (uid: bigint): Delivery => ({
        kind: 'message',
        nodeId: NODE,
        userId: 'bob',
        message: encodeForDelivery({
          ...stored(uid, ''),
          content: { ...stored(uid, '').content, data: new Uint8Array(64 * 1024) },
        }),
        seq: Number(uid),
      });
      for (let i = 1n; i <= 2000n && h.edge.connectionCount > 0; i++) await h.bus.deliver([big(i)]);
      await expect.poll(() => h.edge.connectionCount).toBe(0);
      await expect.poll(() => h.presence.logouts.length).toBe(1);
    },
  );
});

describe('edge: routes and shutdown', () => {
  it('refreshes all local routes in one heartbeat batch per period', async () => {
    const h = await start({ routeRefreshMs: 50 });
    await loggedIn(h.port, 'alice', 'a1');
    await loggedIn(h.port, 'bob', 'b1');
    await expect.poll(() => h.presence.heartbeats.length).toBeGreaterThan(0);
    const batch = h.presence.heartbeats[0] ?? [];
    expect(batch.map((r) => `${r.userId}/${r.deviceId}@${r.nodeId}#${r.epoch}`).sort()).toEqual([
      `alice/a1@${NODE}#1`,
      `bob/b1@${NODE}#2`,
    ]);
  });

  it('drain: a LOGOUT UNAVAILABLE with a spread retryAfterMs, then close, in batches over the grace; close is idempotent', async () => {
    const GRACE_MS = 1_000;
    const COUNT = 20;
    const h = await start();
    const clients = await Promise.all(
      Array.from({ length: COUNT }, (_, i) => loggedIn(h.port, `u${i}`, 'd')),
    );
    const plan = drainPlan(COUNT, GRACE_MS);
    const started = Date.now();
    const closedAt = clients.map((c) => c.closed.then(() => Date.now() - started));
    await h.edge.drain(GRACE_MS);
    const times = (await Promise.all(closedAt)).sort((a, b) => a - b);

    // protocol.md §6 Shutdown: each connection hears UNAVAILABLE and when to come back before it closes.
    const hints: number[] = [];
    for (const c of clients) {
      const bye = c.received.find((f) => f.command === Command.LOGOUT);
      expect(bye, 'a LOGOUT notify before the close').toBeDefined();
      const f = bye as NonNullable<typeof bye>;
      expect([f.status, unpackFlag(f.flag).flow]).toEqual([Status.UNAVAILABLE, Flow.NOTIFY]);
      const info = codec.ErrorInfo.decode(f.body);
      expect(info.message).toMatch(/reconnect/);
      hints.push(info.retryAfterMs);
    }
    expect(hints.sort((a, b) => a - b)).toEqual(plan.flatMap((b) => b.retryAfterMs).sort((a, b) => a - b));
    // Gradually: the i-th connection to close cannot have closed before its batch's time.
    const perBatch = plan[0]?.retryAfterMs.length ?? 1;
    expect(plan.length).toBe(10);
    times.forEach((t, i) => {
      expect(t, `connection #${i} closed before its batch`).toBeGreaterThanOrEqual(
        (plan[Math.floor(i / perBatch)]?.atMs ?? 0) - 1,
      );
    });
    expect(times.at(-1)).toBeLessThan(GRACE_MS * 3);
    await expect(RawClient.connect(h.port)).rejects.toThrow();
    await Promise.all([h.edge.close(), h.edge.close()]);
    expect(h.presence.logouts.length).toBe(COUNT);
    expect(h.bus.unsubscribed).toBe(true);
  });
});

describe('drain plan (protocol.md §6 Shutdown)', () => {
  it('closes in at most 10 batches over the grace; close time + hint is evenly spread over it', () => {
    expect(drainPlan(0, 1000)).toEqual([]);
    expect(drainPlan(3, 900)).toEqual([
      { atMs: 0, retryAfterMs: [0] },
      { atMs: 300, retryAfterMs: [0] },
      { atMs: 600, retryAfterMs: [0] },
    ]);
    const plan = drainPlan(1000, 10_000);
    expect(plan.length).toBe(10);
    expect(plan.map((b) => b.retryAfterMs.length)).toEqual(Array(10).fill(100));
    const reconnects = plan.flatMap((b) => b.retryAfterMs.map((r) => b.atMs + r)).sort((a, b) => a - b);
    expect(reconnects[0]).toBe(0);
    expect(reconnects.at(-1)).toBeLessThan(10_000);
    // Evenly spaced: 10 ms apart for 1000 connections over 10 s.
    const gaps = new Set(reconnects.slice(1).map((t, i) => t - (reconnects[i] as number)));
    expect([...gaps].every((g) => g >= 9 && g <= 11)).toBe(true);
    // An uneven last batch.
    expect(drainPlan(25, 1000).map((b) => b.retryAfterMs.length)).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 1]);
  });
});
