/**
 * protocol.md §1 Bounded responses over real TCP (the case): three 600 KB messages sent
 * gzip (a few KB on the wire) used to make a PullResponse of 1.8 MB, past the 1 MiB maximum the SDK
 * enforces, so the recipient could never sync again. Now every PullResponse stays within the
 * maximum body with hasMore, the SDK's sync follows hasMore to the end, and an MS that could never
 * be pulled is BAD_REQUEST "message too large" with the connection left open.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ImClient } from '../../packages/client/src/index.js';
import { waitFor } from '../../packages/client/test/helpers/wait.js';
import {
  Command,
  Compression,
  codec,
  Flow,
  type Message,
  packFlag,
  Status,
} from '../../packages/protocol/src/index.js';
import { connectAs, errorOf, expectStatus, textMessage, uniqueUser } from '../support/im.js';
import { isResponse } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MAX_BODY = 1024 * 1024;
let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer();
  expect(srv.config.edge.maxBodyBytes).toBe(MAX_BODY);
});

afterAll(async () => {
  await srv?.close();
});

const GZIP_MS = packFlag({ flow: Flow.REQUEST, compression: Compression.GZIP });

it('three 600 KB gzip messages: every PullResponse within 1 MiB, and the SDK syncs all three', async () => {
  const bob = uniqueUser('bob');
  const { c: alice } = await connectAs(srv.port, await srv.identity(uniqueUser('alice')));
  for (let i = 0; i < 3; i++) {
    const m = textMessage(bob, '', {
      content: { data: new Uint8Array(600_000).fill(i), searchableContent: '' },
    });
    const body = gzipSync(codec.Message.encode(m));
    expect(body.length).toBeLessThan(4_000);
    const seq = alice.send({ command: Command.MS, flag: GZIP_MS, body });
    expectStatus(await alice.next((f) => isResponse(f) && f.seq === seq), Status.OK);
  }
  alice.close();

  // Raw: a pull of everything is cut at one message, with hasMore, within the maximum body.
  const { c: raw } = await connectAs(srv.port, await srv.identity(bob, 'raw'));
  const res = expectStatus(
    await raw.request({ command: Command.MP, body: codec.PullRequest.encode({ since: 0, limit: 100 }) }),
    Status.OK,
  );
  expect(res.body.length).toBeLessThanOrEqual(MAX_BODY);
  const page = codec.PullResponse.decode(res.body);
  expect([page.messages.map((m) => m.seq), page.head, page.hasMore]).toEqual([[1], 3, true]);
  raw.close();

  // The SDK (which refuses any frame over 1 MiB) syncs from 0 to the head by following hasMore.
  const id = await srv.identity(bob, 'phone');
  const client = new ImClient({ host: '127.0.0.1', port: srv.port, ...id, lastSeq: 0, reconnect: false });
  const got: Message[] = [];
  const errors: Error[] = [];
  client.on('message', (m) => got.push(m));
  client.on('error', (e) => errors.push(e));
  try {
    await client.connect();
    await waitFor('all three messages', () => got.length === 3, 10_000);
    expect(got.map((m) => [m.seq, m.messageContent?.data.length, m.messageContent?.data[0]])).toEqual([
      [1, 600_000, 0],
      [2, 600_000, 1],
      [3, 600_000, 2],
    ]);
    expect(errors).toEqual([]);
    expect(client.state).toBe('connected');
  } finally {
    await client.close();
  }
});

it('an MS too large to ever be pulled: BAD_REQUEST "message too large", the connection stays open', async () => {
  const { c } = await connectAs(srv.port, await srv.identity(uniqueUser('big')));
  const peer = uniqueUser('peer');
  // Within the body limit on the wire and inflated, but not with the server's fields in a PullResponse.
  const m = textMessage(peer, '', {
    content: { data: new Uint8Array(MAX_BODY - 40), searchableContent: '' },
  });
  const body = gzipSync(codec.Message.encode(m));
  const seq = c.send({ command: Command.MS, flag: GZIP_MS, body });
  const res = await c.next((f) => isResponse(f) && f.seq === seq);
  expectStatus(res, Status.BAD_REQUEST);
  expect(errorOf(res).message).toMatch(/^message too large/);
  expectStatus(await c.request({ command: Command.PING }), Status.OK);
  // Nothing stored for the peer.
  const { c: p } = await connectAs(srv.port, await srv.identity(peer));
  const pulled = codec.PullResponse.decode(
    expectStatus(await p.request({ command: Command.MP, body: codec.PullRequest.encode({ since: 0 }) }), 0)
      .body,
  );
  expect(pulled).toMatchObject({ messages: [], head: 0 });
  c.close();
  p.close();
});
