/**
 * The batched hop (batch.client.ts, batch.server.ts) over real gRPC, through MessageClient and
 * serveMessage with a controllable MessageApi: what one turn sends travels together, each item gets
 * its own result (one bad item fails alone), and an item without a result in time — deadline,
 * broken stream, service gone, too much in flight — is answered UNAVAILABLE, never left hanging.
 * Both transports (stream, unary) keep the same contract.
 */
import type { Caller, MessageApi, SendOptions } from '@im/core';
import { codec, ImError, type SendAck, Status, statusName } from '@im/protocol';
import { MessageService, type SendResults } from '@im/protocol/internal';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MessageClient,
  type MessageClientOptions,
  RpcClient,
  type RpcServer,
  serveMessage,
} from '../src/index.js';
import { caller } from './helpers.js';

/** A MessageApi whose send() answers from the body's messageId (0 → BAD_REQUEST) or waits on a gate. */
class GatedApi implements MessageApi {
  started = 0;
  batches: number[] = [];
  private gate: Promise<void> | null = null;
  private open: () => void = () => {};

  hold(): void {
    this.gate = new Promise((r) => {
      this.open = r;
    });
  }

  release(): void {
    this.gate = null;
    this.open();
  }

  async send(_c: Caller, body: Uint8Array, _o: SendOptions): Promise<SendAck> {
    this.started++;
    const m = codec.Message.decode(body);
    if (this.gate) await this.gate;
    if (m.messageId === 0n) throw new ImError(Status.BAD_REQUEST, 'no messageId');
    return { messageUid: m.messageId * 10n, serverTime: 1, seq: Number(m.messageId) };
  }
  async pull() {
    return { messages: [], head: 0, hasMore: false };
  }
  async recall() {}
  async head() {
    return 0;
  }
  async heads() {
    return new Map<string, number>();
  }
  async joinChatroom() {}
  async quitChatroom() {}
  async chatroomHeartbeat() {}
}

const body = (messageId: bigint) =>
  codec.Message.encode({ messageId, conversation: { type: 0, target: 'b' } });

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return Status.OK;
  } catch (err) {
    if (err instanceof ImError) return err.status;
    throw err;
  }
}

const servers: RpcServer[] = [];
const clients: MessageClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(transport: 'stream' | 'unary', opts: Partial<MessageClientOptions> = {}) {
  const api = new GatedApi();
  const server = await serveMessage(api, {
    host: '127.0.0.1',
    port: 0,
    registry: new Registry(),
    onSendBatch: (n) => api.batches.push(n),
    shutdownTimeoutMs: 100,
  });
  servers.push(server);
  const client = new MessageClient(`127.0.0.1:${server.port}`, {
    deadlineMs: 2_000,
    ...opts,
    sends: { transport, lanes: 1, ...opts.sends },
  });
  clients.push(client);
  return { api, server, client };
}

describe.each(['stream', 'unary'] as const)('batched sends over gRPC (%s)', (transport) => {
  it('sends one turn as one batch, each item answered with its own result; a bad one fails alone', async () => {
    const { api, client } = await setup(transport);
    const ids = [1n, 2n, 0n, 4n, 5n];
    const results = await Promise.allSettled(
      ids.map((id) => client.send(caller('u'), body(id), { e2e: false })),
    );
    expect(api.batches).toEqual([5]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect((results[3] as PromiseFulfilledResult<SendAck>).value).toEqual({
      messageUid: 40n,
      serverTime: 1,
      seq: 4,
    });
    const bad = (results[2] as PromiseRejectedResult).reason;
    expect(bad).toBeInstanceOf(ImError);
    expect([bad.status, bad.message]).toEqual([Status.BAD_REQUEST, 'no messageId']);
  });

  it('an item with no result by its deadline is UNAVAILABLE; a late result is dropped', async () => {
    const { api, client } = await setup(transport, { deadlineMs: 300 });
    api.hold();
    const started = Date.now();
    const results = await Promise.all(
      [1n, 2n].map((id) => status(client.send(caller('u'), body(id), { e2e: false }))),
    );
    expect(results).toEqual([Status.UNAVAILABLE, Status.UNAVAILABLE]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    api.release();
    // The channel is fine afterwards.
    expect((await client.send(caller('u'), body(3n), { e2e: false })).seq).toBe(3);
  });

  it('the service gone mid-batch: every item is UNAVAILABLE at once, not at its deadline', async () => {
    const { api, server, client } = await setup(transport, { deadlineMs: 10_000 });
    api.hold();
    const pending = [1n, 2n, 3n].map((id) => status(client.send(caller('u'), body(id), { e2e: false })));
    await expect.poll(() => api.started).toBe(3);
    const started = Date.now();
    await server.close(); // shutdown timeout 100 ms, then the calls are cancelled
    expect(await Promise.all(pending)).toEqual([Status.UNAVAILABLE, Status.UNAVAILABLE, Status.UNAVAILABLE]);
    expect(Date.now() - started).toBeLessThan(5_000);
    api.release();
  });

  it('with a linger, items of several turns travel in one batch; a full batch does not wait', async () => {
    const { api, client } = await setup(transport, { sends: { lingerMs: 50, maxBatch: 4 } });
    const sends: Promise<SendAck>[] = [];
    sends.push(client.send(caller('u'), body(1n), { e2e: false }));
    await new Promise((r) => setImmediate(r));
    sends.push(client.send(caller('u'), body(2n), { e2e: false }));
    await new Promise((r) => setTimeout(r, 5));
    sends.push(client.send(caller('u'), body(3n), { e2e: false }));
    expect((await Promise.all(sends)).map((a) => a.seq)).toEqual([1, 2, 3]);
    expect(api.batches).toEqual([3]);
    // A linger longer than the test's timeout: only a full batch going at once can pass.
    const full = await setup(transport, { sends: { lingerMs: 600_000, maxBatch: 4 } });
    const acks = await Promise.all(
      [4n, 5n, 6n, 7n].map((id) => full.client.send(caller('u'), body(id), { e2e: false })),
    );
    expect(acks.map((a) => a.seq)).toEqual([4, 5, 6, 7]);
    expect(full.api.batches).toEqual([4]);
  });

  it('refuses past maxInFlight at once with UNAVAILABLE (bounded work, not an unbounded queue)', async () => {
    const { api, client } = await setup(transport, { sends: { maxInFlight: 3 } });
    api.hold();
    const held = [1n, 2n, 3n].map((id) => client.send(caller('u'), body(id), { e2e: false }));
    const refused = await status(client.send(caller('u'), body(4n), { e2e: false }));
    expect(refused).toBe(Status.UNAVAILABLE);
    expect(client.sendsInFlight).toBe(3);
    api.release();
    expect((await Promise.all(held)).map((a) => a.seq)).toEqual([1, 2, 3]);
    expect(client.sendsInFlight).toBe(0);
  });
});

describe('batched sends over a stream: deadlines carried to the service', () => {
  it('an item whose deadline passed before the service started it is answered UNAVAILABLE, not handled', async () => {
    const { api, server } = await setup('stream');
    const rpc = new RpcClient(MessageService, `127.0.0.1:${server.port}`, { deadlineMs: 5_000 });
    const stream = rpc.stream('sendStream');
    if (!stream) throw new Error('no stream');
    try {
      const results = new Promise<SendResults>((resolve) => stream.once('data', resolve));
      const caller = { userId: 'u', deviceId: 'd', nodeId: 'n', epoch: 1 };
      // Its sender gave up on it before the service got to it (here: a second ago).
      stream.write({
        items: [
          { id: 1, caller, message: body(1n), e2e: false, deadline: Date.now() - 1_000, traceparent: '' },
          { id: 2, caller, message: body(2n), e2e: false, deadline: Date.now() + 60_000, traceparent: '' },
        ],
      });
      const { results: got } = await results;
      expect(got.map((r) => [r.id, statusName(r.status)])).toEqual([
        [1, 'UNAVAILABLE'],
        [2, 'OK'],
      ]);
      expect(api.started).toBe(1);
    } finally {
      stream.end();
      rpc.close();
    }
  });
});
