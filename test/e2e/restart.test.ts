/**
 * Embedded mode keeps messages across a restart (same data dir): acknowledged means durable
 * (protocol.md §6 Send, Guarantee).
 */
import { rm } from 'node:fs/promises';
import { afterAll, expect, it } from 'vitest';
import { connectAs, nextPush, pullOk, sendOk, text, textMessage } from '../support/im.js';
import type { RawClient } from '../support/raw-client.js';
import { startTestServer, type TestServer, tempDataDir } from '../support/server.js';

const clients: RawClient[] = [];
let dataDir = '';
let current: TestServer | null = null;

afterAll(async () => {
  for (const c of clients) c.close();
  await current?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('messages sent before a restart are pulled after it; seq and uids continue', async () => {
  dataDir = await tempDataDir();
  const secret = 'restart-test-secret-0123456789abcdef';
  current = await startTestServer({}, { dataDir, secret });
  const first = current;
  const a1 = await connectAs(first.port, await first.identity('alice'));
  clients.push(a1.c);
  const acks = [
    await sendOk(a1.c, textMessage('bob', 'before-1')),
    await sendOk(a1.c, textMessage('bob', 'before-2')),
  ];
  await first.stop();
  expect(await a1.c.closedWithin(2000)).toBe(true);

  current = await startTestServer({}, { dataDir, secret });
  const second = current;
  const b = await connectAs(second.port, await second.identity('bob'));
  clients.push(b.c);
  expect(b.login.head).toBe(2);
  const pulled = await pullOk(b.c, 0);
  expect(pulled.messages.map((m) => [m.seq, text(m), m.messageUid])).toEqual([
    [1, 'before-1', acks[0]?.messageUid],
    [2, 'before-2', acks[1]?.messageUid],
  ]);

  const a2 = await connectAs(second.port, await second.identity('alice'));
  clients.push(a2.c);
  // Alice's own inbox also survived: her next message takes seq 3 there.
  expect(a2.login.head).toBe(2);
  const after = await sendOk(a2.c, textMessage('bob', 'after'));
  expect(after.seq).toBe(3);
  expect(after.messageUid).toBeGreaterThan(acks[1]?.messageUid ?? 0n);
  const push = await nextPush(b.c);
  expect([push.message.seq, text(push.message)]).toEqual([3, 'after']);
});
