/**
 * Per-turn write coalescing (src/write-flush.ts): frames written to one socket in one turn leave
 * in one write call; the unsent-bytes bound still applies (edge.test.ts: slow reader).
 */
import { Socket } from 'node:net';
import { loadConfig } from '@im/core';
import { Command, codec, frameToBytes, Status } from '@im/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RawClient } from '../../../test/support/raw-client.js';
import { createEdge, type Edge } from '../src/index.js';
import { FakeBus, FakeMessages, FakePresence, fakeVerifier } from './fakes.js';

const NODE = 'edge-write-flush';
const open: { edge: Edge; clients: RawClient[] }[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const { edge, clients } of open.splice(0)) {
    for (const c of clients) c.close();
    await edge.close();
  }
});

async function start(messages: FakeMessages): Promise<number> {
  const config = loadConfig({}, { nodeId: NODE, edge: { host: '127.0.0.1', port: 0 } });
  const edge = createEdge({
    config,
    nodeId: NODE,
    message: messages,
    presence: new FakePresence(),
    bus: new FakeBus(),
    verifier: fakeVerifier,
    logger: pino({ level: 'silent' }),
  });
  const { port } = await edge.listen();
  open.push({ edge, clients: [] });
  return port;
}

/** Counts the write calls (one per write/writev syscall attempt) of the server's own sockets. */
function countServerWrites(): { calls: number } {
  const count = { calls: 0 };
  const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
  for (const name of ['_write', '_writev'] as const) {
    const original = proto[name];
    vi.spyOn(proto, name).mockImplementation(function (this: Socket & { server?: unknown }, ...args) {
      if (this.server) count.calls++;
      return original.apply(this, args);
    });
  }
  return count;
}

describe('edge: writes are coalesced per turn', () => {
  it('the acks of pipelined MS answered in one turn leave in one write', async () => {
    const messages = new FakeMessages();
    const port = await start(messages);
    const c = await RawClient.connect(port);
    open.at(-1)?.clients.push(c);
    const login = await c.request({
      command: Command.LOGIN,
      body: codec.LoginRequest.encode({ userId: 'alice', deviceId: 'a1', token: 'ok:alice' }),
    });
    expect(login.status).toBe(Status.OK);

    // Eight MS in one TCP write: one read, eight acks produced in the microtasks of that read.
    const frames: Uint8Array[] = [];
    const seqs: number[] = [];
    for (let i = 1n; i <= 8n; i++) {
      const seq = c.nextSeq();
      seqs.push(seq);
      const body = codec.Message.encode({
        messageId: i,
        conversation: { type: 0, target: 'bob' },
        messageContent: { contentType: 1 },
      });
      frames.push(frameToBytes({ seq, command: Command.MS, flag: 0, status: 0, body }));
    }
    const writes = countServerWrites();
    c.write(Buffer.concat(frames));
    const acks = [];
    for (const seq of seqs) acks.push(await c.next((f) => f.command === Command.MS && f.seq === seq));
    expect(acks.map((a) => codec.SendAck.decode(a.body).messageUid)).toEqual(
      [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n].map((id) => id + 1000n),
    );
    // Without coalescing this is eight (one cork/uncork per response).
    expect(writes.calls).toBe(1);
  });
});
