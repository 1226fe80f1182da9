/**
 * protocol.md §6 Limits and abuse, §3 TOO_MANY_REQUESTS: every configurable limit of the edge
 * crossed over real TCP, with the status or close the docs promise (docs/security.md, limits table).
 * Limits covered elsewhere: frame completion deadline and login timeout (timeouts.test.ts), unsent
 * output bound (slow-reader.test.ts), three strikes before LOGIN (session.test.ts), body size and
 * gzip bombs (bad-input.test.ts).
 */

import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Command,
  Compression,
  codec,
  Flow,
  type Frame,
  frameToBytes,
  packFlag,
  Status,
} from '../../packages/protocol/src/index.js';
import {
  connectAs,
  errorOf,
  expectStatus,
  loginBody,
  sendMessage,
  sleep,
  textMessage,
  uniqueUser,
} from '../support/im.js';
import { isResponse, RawClient } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

const clients: RawClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

async function online(srv: TestServer, userId = uniqueUser('u')): Promise<RawClient> {
  const { c } = await connectAs(srv.port, await srv.identity(userId));
  clients.push(c);
  return c;
}

function pings(from: number, n: number): Uint8Array {
  return Buffer.concat(
    Array.from({ length: n }, (_, i) =>
      frameToBytes({ seq: from + i, command: Command.PING, flag: 0, status: 0, body: new Uint8Array(0) }),
    ),
  );
}

async function responses(c: RawClient, n: number): Promise<Frame[]> {
  const out: Frame[] = [];
  for (let i = 0; i < n; i++) out.push(await c.next(isResponse));
  return out;
}

describe('per-connection rate limits (frames/s, bytes/s)', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({
      edge: {
        rateFramesPerSecond: 10,
        rateFramesBurst: 5,
        rateBytesPerSecond: 4000,
        rateBytesBurst: 4000,
        abuseCloseMs: 60_000,
      },
    });
  });
  afterAll(() => srv?.close());

  it('frames over the bucket: TOO_MANY_REQUESTS with retryAfterMs, in order; the connection stays open', async () => {
    const c = await online(srv); // LOGIN took one token
    c.write(pings(100, 12));
    const res = await responses(c, 12);
    expect(res.map((f) => f.seq)).toEqual(Array.from({ length: 12 }, (_, i) => 100 + i));
    const ok = res.filter((f) => f.status === Status.OK).length;
    expect(ok).toBeGreaterThanOrEqual(3);
    expect(ok).toBeLessThanOrEqual(5);
    const limited = res.filter((f) => f.status === Status.TOO_MANY_REQUESTS);
    expect(limited.length).toBe(12 - ok);
    const info = errorOf(limited[0] as Frame);
    expect(info.message).toMatch(/frames\/s/);
    expect(info.retryAfterMs).toBeGreaterThan(0);
    expect(info.retryAfterMs).toBeLessThanOrEqual(100);
    await sleep(info.retryAfterMs + 20);
    expectStatus(await c.request({ command: Command.PING }), Status.OK);
    expect(c.isClosed).toBe(false);
  });

  it('bytes over the bucket: TOO_MANY_REQUESTS naming bytes/s, with retryAfterMs', async () => {
    const c = await online(srv);
    const big = textMessage(uniqueUser('peer'), 'b'.repeat(1500));
    const first = await sendMessage(c, big); // ~3 KB of 4000
    expectStatus(first, Status.OK);
    const second = await sendMessage(c, { ...big, messageId: big.messageId + 1n });
    expectStatus(second, Status.TOO_MANY_REQUESTS);
    const info = errorOf(second);
    expect(info.message).toMatch(/bytes\/s/);
    expect(info.retryAfterMs).toBeGreaterThan(100);
    await sleep(info.retryAfterMs + 50);
    expectStatus(await sendMessage(c, { ...big, messageId: big.messageId + 2n }), Status.OK);
  });

  it('a refused frame costs nothing: the next one after the wait is accepted', async () => {
    const c = await online(srv);
    c.write(pings(500, 30));
    const res = await responses(c, 30);
    const wait = Math.max(...res.filter((f) => f.status !== 0).map((f) => errorOf(f).retryAfterMs));
    await sleep(wait + 20);
    expectStatus(await c.request({ command: Command.PING }), Status.OK);
  });
});

describe('the byte rate counts inflated bytes (protocol.md §6 Limits: "after decompression as well as on the wire")', () => {
  const INFLATED = 100_000;
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({
      edge: { rateBytesPerSecond: 100_000, rateBytesBurst: 400_000, abuseCloseMs: 60_000 },
    });
  });
  afterAll(() => srv?.close());

  it('16 gzip MS of ~100 B on the wire and 100 KB inflated, in one write: only the burst is stored', async () => {
    const peer = uniqueUser('peer');
    const c = await online(srv);
    const zipped = (i: number) => {
      const m = textMessage(peer, '', { content: { data: new Uint8Array(INFLATED) } });
      return gzipSync(codec.Message.encode({ ...m, messageId: BigInt(1000 + i) }));
    };
    const flag = packFlag({ flow: Flow.REQUEST, compression: Compression.GZIP });
    const frames = Array.from({ length: 16 }, (_, i) =>
      frameToBytes({ seq: 200 + i, command: Command.MS, flag, status: 0, body: zipped(i) }),
    );
    expect((frames[0] as Uint8Array).length).toBeLessThan(1000);
    c.write(Buffer.concat(frames));
    const res = await responses(c, 16);
    const ok = res.filter((f) => f.status === Status.OK).length;
    // 400 KB of burst buys three or four 100 KB bodies (their wire bytes are charged too), not 16.
    expect(ok).toBeGreaterThanOrEqual(3);
    expect(ok).toBeLessThanOrEqual(4);
    const limited = res.filter((f) => f.status === Status.TOO_MANY_REQUESTS);
    expect(limited).toHaveLength(16 - ok);
    expect(errorOf(limited[0] as Frame).message).toMatch(/bytes once inflated/);
    // Nothing refused was stored.
    const inbox = await online(srv, peer);
    const pulled = codec.PullResponse.decode(
      expectStatus(
        await inbox.request({ command: Command.MP, body: codec.PullRequest.encode({ since: 0 }) }),
        0,
      ).body,
    );
    expect(pulled.messages).toHaveLength(ok);
  });
});

describe('persistent abuse (protocol.md §3: still exceeding abuseCloseMs after the first TOO_MANY_REQUESTS)', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ edge: { rateFramesPerSecond: 20, rateFramesBurst: 2, abuseCloseMs: 600 } });
  });
  afterAll(() => srv?.close());

  it('a client that keeps flooding is answered TOO_MANY_REQUESTS, then closed', async () => {
    const c = await online(srv);
    const started = Date.now();
    let seq = 1000;
    while (!c.isClosed && Date.now() - started < 3000) {
      c.write(pings(seq, 5));
      seq += 5;
      await sleep(40);
    }
    expect(c.isClosed).toBe(true);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(550);
    const last = c.received.filter(isResponse).at(-1) as Frame;
    expect(last.status).toBe(Status.TOO_MANY_REQUESTS);
    expect(errorOf(last).message).toMatch(/closing/);
  });

  it('a client that slows down to the limit stays connected', async () => {
    const c = await online(srv);
    c.write(pings(10, 6));
    const first = await responses(c, 6);
    expect(first.some((f) => f.status === Status.TOO_MANY_REQUESTS)).toBe(true);
    // 10/s against a limit of 20/s, for longer than abuseCloseMs.
    for (let i = 0; i < 12; i++) {
      await sleep(100);
      expectStatus(await c.request({ command: Command.PING }), Status.OK);
    }
    expect(c.isClosed).toBe(false);
  });
});

describe('per-IP connection count and accept rate', () => {
  it('connections over maxConnectionsPerIp are closed at accept; a slot frees when one closes', async () => {
    const srv = await startTestServer({ edge: { maxConnectionsPerIp: 3, acceptPerIpPerSecond: 0 } });
    try {
      const three = await Promise.all([1, 2, 3].map(() => RawClient.connect(srv.port)));
      clients.push(...three);
      const fourth = await RawClient.connect(srv.port);
      clients.push(fourth);
      expect(await fourth.closedWithin(2000)).toBe(true);
      expect(fourth.received).toEqual([]);
      // The three still work.
      expectStatus(
        await (three[0] as RawClient).request({
          command: Command.LOGIN,
          body: loginBody(await srv.identity(uniqueUser('ip'))),
        }),
        Status.OK,
      );
      (three[1] as RawClient).close();
      await sleep(100);
      const again = await RawClient.connect(srv.port);
      clients.push(again);
      expect(await again.closedWithin(300)).toBe(false);
    } finally {
      await srv.close();
    }
  });

  it('a reconnect storm from one address is throttled by the accept rate, then allowed again', async () => {
    const srv = await startTestServer({ edge: { acceptPerIpPerSecond: 5, acceptPerIpBurst: 3 } });
    try {
      const burst: RawClient[] = [];
      for (let i = 0; i < 6; i++) burst.push(await RawClient.connect(srv.port));
      clients.push(...burst);
      const closed = await Promise.all(burst.map((c) => c.closedWithin(500)));
      expect(closed.filter(Boolean).length).toBeGreaterThanOrEqual(2);
      expect(closed.slice(0, 3)).toEqual([false, false, false]);
      await sleep(450);
      const later = await RawClient.connect(srv.port);
      clients.push(later);
      expectStatus(
        await later.request({
          command: Command.LOGIN,
          body: loginBody(await srv.identity(uniqueUser('storm'))),
        }),
        Status.OK,
      );
    } finally {
      await srv.close();
    }
  });
});

describe('caps after decoding (strings, bytes, repeated fields, nesting)', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({
      edge: { maxStringLength: 200, maxBytesLength: 1000, maxRepeated: 3, maxProtobufDepth: 8 },
    });
  });
  afterAll(() => srv?.close());

  it('a string over the cap: BAD_REQUEST naming the field; the connection stays open', async () => {
    const c = await RawClient.connect(srv.port);
    clients.push(c);
    const id = await srv.identity(uniqueUser('cap'));
    const res = await c.request({
      command: Command.LOGIN,
      body: loginBody({ ...id, deviceId: 'd'.repeat(201) }),
    });
    expectStatus(res, Status.BAD_REQUEST);
    expect(errorOf(res).message).toMatch(/LoginRequest\.deviceId.*limit is 200/);
    expectStatus(await c.request({ command: Command.LOGIN, body: loginBody(id) }), Status.OK);
  });

  it('bytes and repeated fields over the cap: BAD_REQUEST', async () => {
    const c = await online(srv);
    const bytes = await sendMessage(
      c,
      textMessage(uniqueUser('p'), '', { content: { searchableContent: '', data: new Uint8Array(1001) } }),
    );
    expectStatus(bytes, Status.BAD_REQUEST);
    expect(errorOf(bytes).message).toMatch(/data.*limit is 1000/);
    const many = await sendMessage(
      c,
      textMessage(uniqueUser('p'), 'hi', {
        content: { mentionedType: 1, mentionedTargets: ['a', 'b', 'c', 'd'] },
      }),
    );
    expectStatus(many, Status.BAD_REQUEST);
    expect(errorOf(many).message).toMatch(/mentionedTargets.*limit is 3/);
    expectStatus(await c.request({ command: Command.PING }), Status.OK);
  });

  it('protobuf nested past maxProtobufDepth (unknown groups): BAD_REQUEST', async () => {
    const c = await online(srv);
    // Field 15, wire type 3 (start group) 20 times, then the matching end-group tags.
    const depth = 20;
    const body = new Uint8Array([...Array(depth).fill((15 << 3) | 3), ...Array(depth).fill((15 << 3) | 4)]);
    const res = await c.request({ command: Command.MS, body });
    expectStatus(res, Status.BAD_REQUEST);
    expect(errorOf(res).message).toMatch(/depth/);
    // Shallow unknown groups are skipped as usual (then the Message is judged on its own merits).
    const shallow = new Uint8Array([
      (15 << 3) | 3,
      (15 << 3) | 4,
      ...codec.Message.encode(textMessage(uniqueUser('p'), 'ok')),
    ]);
    expectStatus(await c.request({ command: Command.MS, body: shallow }), Status.OK);
  });
});
