/**
 * The batched hop (batch.client.ts, batch.server.ts) over real gRPC, through MessageClient and
 * serveMessage with a controllable MessageApi: what one turn sends travels together, each item gets
 * its own result (one bad item fails alone), and an item without a result in time — deadline,
 * broken stream, service gone, too much in flight — is answered UNAVAILABLE, never left hanging.
 * Both transports (stream, unary) keep the same contract.
 */
import type { Caller, MessageApi, SendOptions } from '@im/core';
import { codec, ImError, type SendAck, Status } from '@im/protocol';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageClient, type MessageClientOptions, type RpcServer, serveMessage } from '../src/index.js';
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
  it('an item whose deadline passed before the service started it is not handled', async () => {
    const { api, client } = await setup('stream', { deadlineMs: 1 });
    // Sent with 1 ms left: it reaches the service after its deadline and is answered UNAVAILABLE
    // without being handled (its sender has already given up on it). (A unary call past its
    // deadline never reaches the service at all: gRPC enforces it.)
    expect(await status(client.send(caller('u'), body(1n), { e2e: false }))).toBe(Status.UNAVAILABLE);
    await expect.poll(() => api.batches.length).toBe(1);
    expect(api.started).toBe(0);
  });
});
