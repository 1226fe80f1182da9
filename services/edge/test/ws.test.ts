/**
 * The edge's WebSocket listener (protocol.md §1 WebSocket transport) with fake services: the
 * handshake rules (path, subprotocol, plain HTTP), wss with the TLS files, the per-IP guard and
 * the size limit on the upgraded socket, byte counts, and drain (the slow-reader bound over both
 * transports is in edge.test.ts). The
 * protocol over WebSocket against the real services is the conformance suite's
 * (test/conformance/embedded.ws.test.ts).
 */

import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { type Config, loadConfig } from '@im/core';
import { Command, codec, encodeFrame, HEADER_LENGTH, Status } from '@im/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RawClient } from '../../../test/support/raw-client.js';
import { makeTestCert } from '../../../test/support/tls-cert.js';
import { createEdge, type Edge } from '../src/index.js';
import { FakeBus, FakeMessages, FakePresence, fakeVerifier } from './fakes.js';

const NODE = 'edge-ws-test';
const open: { edge: Edge; clients: RawClient[] }[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const o of open.splice(0)) {
    for (const c of o.clients) c.close();
    await o.edge.close();
  }
  for (const f of cleanups.splice(0)) await f();
});

async function start(edge: Partial<Config['edge']> = {}) {
  const config = loadConfig(
    {},
    { nodeId: NODE, edge: { host: '127.0.0.1', port: 0, ws: true, wsPort: 0, ...edge } },
  );
  const bus = new FakeBus();
  const presence = new FakePresence();
  const e = createEdge({
    config,
    nodeId: NODE,
    message: new FakeMessages(),
    presence,
    bus,
    verifier: fakeVerifier,
    logger: pino({ level: 'silent' }),
  });
  const ports = await e.listen();
  open.push({ edge: e, clients: [] });
  return { edge: e, ports, wsPort: ports.wsPort as number, bus, presence };
}

async function loggedIn(wsPort: number, userId: string): Promise<RawClient> {
  const c = await RawClient.connectWs(wsPort);
  open.at(-1)?.clients.push(c);
  const res = await c.request({
    command: Command.LOGIN,
    body: codec.LoginRequest.encode({ userId, deviceId: 'd1', token: `ok:${userId}` }),
  });
  expect(res.status).toBe(Status.OK);
  return c;
}

/** The HTTP answer to an upgrade request (status and body), as a browser's handshake would get it. */
function upgrade(port: number, path: string, protocol?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64'),
        ...(protocol ? { 'sec-websocket-protocol': protocol } : {}),
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('edge: WebSocket handshake (protocol.md §1)', () => {
  it('listens on its own port next to TCP; /im with im.v1 upgrades and agrees on im.v1', async () => {
    const h = await start();
    expect(h.wsPort).toBeGreaterThan(0);
    expect(h.wsPort).not.toBe(h.ports.port);
    const ws = new WebSocket(`ws://127.0.0.1:${h.wsPort}/im`, ['other', 'im.v1']);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    expect(ws.protocol).toBe('im.v1');
    ws.terminate();
  });

  it('another path: 404 with a reason', async () => {
    const h = await start();
    const res = await upgrade(h.wsPort, '/chat', 'im.v1');
    expect(res.status).toBe(404);
    expect(res.body).toMatch(/\/im/);
  });

  it('without the im.v1 subprotocol: 400 with a reason', async () => {
    const h = await start();
    for (const protocol of [undefined, 'chat, im.v2']) {
      const res = await upgrade(h.wsPort, '/im', protocol);
      expect(res.status).toBe(400);
      expect(res.body).toMatch(/im\.v1/);
    }
  });

  it('a plain HTTP request: 426 Upgrade Required, saying how to connect', async () => {
    const h = await start();
    const res = await fetch(`http://127.0.0.1:${h.wsPort}/im`);
    expect(res.status).toBe(426);
    expect(await res.text()).toMatch(/ws:\/\/.*\/im.*im\.v1/);
  });

  it('off by default: no WebSocket port', async () => {
    const h = await start({ ws: false });
    expect(h.ports.wsPort).toBeUndefined();
  });

  it('wss with the TLS files: the same protocol through TLS', async () => {
    const cert = await makeTestCert();
    cleanups.push(() => rm(cert.dir, { recursive: true, force: true }));
    const h = await start({ tlsPort: 0, tlsCertFile: cert.certFile, tlsKeyFile: cert.keyFile });
    const ws = new WebSocket(`wss://127.0.0.1:${h.wsPort}/im`, ['im.v1'], { ca: cert.certPem });
    ws.binaryType = 'nodebuffer';
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const [header, body] = encodeFrame({
      seq: 1,
      command: Command.LOGIN,
      flag: 0,
      status: 0,
      body: codec.LoginRequest.encode({ userId: 'alice', deviceId: 'd1', token: 'ok:alice' }),
    });
    const answer = new Promise<Buffer>((resolve) => ws.once('message', (d: Buffer) => resolve(d)));
    ws.send(Buffer.concat([header, body]));
    const frame = await answer;
    expect([frame.readUInt32BE(5), frame[9], frame[11]]).toEqual([1, Command.LOGIN, Status.OK]);
    ws.terminate();
    // A plain WebSocket client on the wss port gets no session.
    await expect(RawClient.connectWs(h.wsPort)).rejects.toThrow();
  });
});

describe('edge: WebSocket limits (protocol.md §1, §6 Limits and abuse)', () => {
  it('the per-IP connection limit counts WebSocket clients too', async () => {
    const h = await start({ maxConnectionsPerIp: 2 });
    const a = await RawClient.connectWs(h.wsPort);
    const b = await RawClient.connect(h.ports.port);
    open.at(-1)?.clients.push(a, b);
    await expect(RawClient.connectWs(h.wsPort)).rejects.toThrow();
  });

  it('a message larger than a header plus the body limit is refused by the WebSocket layer (1009) and closed', async () => {
    const h = await start({ maxBodyBytes: 4096 });
    const ws = new WebSocket(`ws://127.0.0.1:${h.wsPort}/im`, ['im.v1']);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(new Uint8Array(HEADER_LENGTH + 4096 + 1));
    expect(await closed).toBe(1009);
    await expect.poll(() => h.edge.connectionCount).toBe(0);
  });

  it('a body exactly at the limit in one message is accepted', async () => {
    const h = await start({ maxBodyBytes: 4096 });
    const c = await loggedIn(h.wsPort, 'alice');
    const res = await c.request({ command: Command.PING, body: new Uint8Array(4096) });
    expect(res.status).toBe(Status.OK);
  });
});

describe('edge: WebSocket connections are connections', () => {
  it('bytes in and out are counted, closed connections included', async () => {
    const h = await start();
    const c = await loggedIn(h.wsPort, 'alice');
    expect((await c.request({ command: Command.PING })).status).toBe(Status.OK);
    expect(h.edge.bytesIn).toBeGreaterThan(2 * HEADER_LENGTH);
    expect(h.edge.bytesOut).toBeGreaterThan(2 * HEADER_LENGTH);
    const before = h.edge.bytesIn;
    c.close();
    await expect.poll(() => h.edge.connectionCount).toBe(0);
    expect(h.edge.bytesIn).toBe(before);
  });

  it('drain closes WebSocket connections with a normal close and stops accepting', async () => {
    const h = await start();
    const ws = new WebSocket(`ws://127.0.0.1:${h.wsPort}/im`, ['im.v1']);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await h.edge.drain(50);
    expect(await closed).toBe(1000);
    await expect(RawClient.connectWs(h.wsPort)).rejects.toThrow();
  });
});
