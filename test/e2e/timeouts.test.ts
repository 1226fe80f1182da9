/**
 * protocol.md §6 timers with a short configuration: login deadline, heartbeat (idle) timeout,
 * frame-completion deadline, recall window. After each case a FRESH client still works.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Command, codec, Status } from '../../packages/protocol/src/index.js';
import {
  connectAs,
  errorOf,
  expectStatus,
  loginBody,
  nextPush,
  sendOk,
  sleep,
  textMessage,
  uniqueUser,
} from '../support/im.js';
import { RawClient, rawHeader } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

const LOGIN_TIMEOUT_MS = 600;
const HEARTBEAT_SECONDS = 1; // idle close after 2.5 s
const FRAME_DEADLINE_MS = 500;
const RECALL_WINDOW_MS = 1_500;

let srv: TestServer;
const clients: RawClient[] = [];

async function raw(): Promise<RawClient> {
  const c = await RawClient.connect(srv.port);
  clients.push(c);
  return c;
}

async function online(userId = uniqueUser('u'), deviceId = 'd1') {
  const r = await connectAs(srv.port, await srv.identity(userId, deviceId));
  clients.push(r.c);
  return r;
}

/** Milliseconds until c closes (rejects after limitMs). */
async function closesAfter(c: RawClient, started: number, limitMs: number): Promise<number> {
  if (!(await c.closedWithin(limitMs))) throw new Error(`still open after ${limitMs} ms`);
  return Date.now() - started;
}

beforeAll(async () => {
  srv = await startTestServer({
    edge: {
      loginTimeoutMs: LOGIN_TIMEOUT_MS,
      heartbeatSeconds: HEARTBEAT_SECONDS,
      frameDeadlineMs: FRAME_DEADLINE_MS,
    },
    message: { recallWindowMs: RECALL_WINDOW_MS },
  });
});

afterEach(async () => {
  const bob = uniqueUser('fresh-bob');
  const b = (await online(bob)).c;
  const a = (await online()).c;
  const ack = await sendOk(a, textMessage(bob, 'still alive'));
  expect((await nextPush(b)).message.messageUid).toBe(ack.messageUid);
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await srv?.close();
});

describe('login deadline (protocol.md §6 Session)', () => {
  it('a connection that does not log in is closed after loginTimeoutMs', async () => {
    const started = Date.now();
    const c = await raw();
    const ms = await closesAfter(c, started, LOGIN_TIMEOUT_MS + 2000);
    expect(ms).toBeGreaterThanOrEqual(LOGIN_TIMEOUT_MS - 50);
    expect(c.received).toEqual([]);
  });

  it('a LOGIN in time stops it', async () => {
    const c = await raw();
    await sleep(LOGIN_TIMEOUT_MS / 2);
    expectStatus(
      await c.request({ command: Command.LOGIN, body: loginBody(await srv.identity(uniqueUser('intime'))) }),
      Status.OK,
    );
    await sleep(LOGIN_TIMEOUT_MS);
    expectStatus(await c.request({ command: Command.PING }), Status.OK);
  });
});

describe('heartbeat (protocol.md §6 Heartbeat)', () => {
  it('LoginResponse announces heartbeatSeconds; silence for 2.5 × it closes and removes the route', async () => {
    const userId = uniqueUser('idle');
    const { c, login } = await online(userId);
    expect(login.heartbeatSeconds).toBe(HEARTBEAT_SECONDS);
    const started = Date.now();
    const ms = await closesAfter(c, started, 2.5 * HEARTBEAT_SECONDS * 1000 + 2000);
    expect(ms).toBeGreaterThanOrEqual(2.5 * HEARTBEAT_SECONDS * 1000 - 300);
    await expect.poll(() => srv.server.presence.devices(userId)).toEqual([]);
  });

  it('a client that PINGs within heartbeatSeconds stays connected', async () => {
    const { c } = await online();
    for (let i = 0; i < 4; i++) {
      await sleep(HEARTBEAT_SECONDS * 1000);
      expectStatus(await c.request({ command: Command.PING }), Status.OK);
    }
    expect(c.isClosed).toBe(false);
  });
});

describe('frame-completion deadline (protocol.md §6 Limits)', () => {
  it('a body trickled slower than the deadline is cut off', async () => {
    const { c } = await online();
    const started = Date.now();
    c.write(rawHeader({ length: 50, seq: 10, command: Command.PING, flag: 0 }));
    const trickle = setInterval(() => {
      if (!c.isClosed) c.write(Uint8Array.of(0));
    }, 100);
    try {
      const ms = await closesAfter(c, started, FRAME_DEADLINE_MS + 2000);
      expect(ms).toBeGreaterThanOrEqual(FRAME_DEADLINE_MS - 50);
      expect(ms).toBeLessThan(50 * 100); // long before the body would have completed
    } finally {
      clearInterval(trickle);
    }
    expect(c.pending((f) => f.seq === 10)).toEqual([]);
  });

  it('a header trickled byte by byte is cut off too', async () => {
    const { c } = await online();
    const header = rawHeader({ length: 0, seq: 1, command: Command.PING, flag: 0 });
    const started = Date.now();
    let i = 0;
    const trickle = setInterval(() => {
      if (!c.isClosed && i < header.length - 1) c.write(header.subarray(i, ++i));
    }, 100);
    try {
      // Trickling the 11 bytes alone would take 1.1 s: the deadline counts from the first byte.
      const ms = await closesAfter(c, started, FRAME_DEADLINE_MS + 2000);
      expect(ms).toBeLessThan(FRAME_DEADLINE_MS + 400);
    } finally {
      clearInterval(trickle);
    }
  });

  it('frames completed in time keep the connection open, even when sent in pieces', async () => {
    const { c } = await online();
    const header = rawHeader({ length: 4, seq: 50, command: Command.PING, flag: 0 });
    c.write(header.subarray(0, 6));
    await sleep(FRAME_DEADLINE_MS / 3);
    c.write(header.subarray(6));
    await sleep(FRAME_DEADLINE_MS / 3);
    c.write(Uint8Array.of(1, 2, 3, 4));
    expectStatus(await c.next((f) => f.seq === 50), Status.OK);
  });
});

describe('recall window (protocol.md §6 Recall)', () => {
  it('after the window: EXPIRED with a reason; the message stays', async () => {
    const bob = uniqueUser('bob');
    const { c: a } = await online();
    const ack = await sendOk(a, textMessage(bob, 'too late'));
    await sleep(RECALL_WINDOW_MS + 200);
    // Keep the connection alive across the wait is not needed: RECALL_WINDOW_MS < 2.5 s idle.
    const res = await a.request({
      command: Command.MR,
      body: codec.RecallRequest.encode({ messageUid: ack.messageUid }),
    });
    expectStatus(res, Status.EXPIRED);
    expect(errorOf(res).message.length).toBeGreaterThan(0);
    const { c: b } = await online(bob);
    const page = await b.request({ command: Command.MP, body: codec.PullRequest.encode({ since: 0 }) });
    const pulled = codec.PullResponse.decode(expectStatus(page, Status.OK).body);
    expect(pulled.messages.map((m) => m.messageContent?.contentType)).toEqual([1]);
  });

  it('within the window: OK', async () => {
    const { c: a } = await online();
    const ack = await sendOk(a, textMessage(uniqueUser('bob'), 'quick'));
    const res = await a.request({
      command: Command.MR,
      body: codec.RecallRequest.encode({ messageUid: ack.messageUid }),
    });
    expectStatus(res, Status.OK);
  });
});
