/**
 * Issue 8 "Order and idempotency survive batching": the edge sends every MS of an event-loop turn
 * to the message service in one SendBatch, and the message service every append of a batch to
 * storage in one AppendBatch (packages/rpc/src/batch.client.ts). Over the real cluster:
 *   - MS written back to back on one connection are stored, acked and delivered in that order;
 *   - a batch the edge gave up on (UNAVAILABLE) but storage committed later stores nothing twice
 *     when the client resends it (protocol.md §6 Send: (from, deviceId, messageId) is the key);
 *   - the message service SIGKILLed while batches are in flight: every MS gets its ack or
 *     UNAVAILABLE, never silence, and resends are stored once.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { signDevToken } from '../../packages/core/src/index.js';
import {
  Command,
  codec,
  encodeFrame,
  Flow,
  type Frame,
  type Message,
  packFlag,
  Status,
  statusName,
} from '../../packages/protocol/src/index.js';
import {
  connectAs,
  errorOf,
  type Identity,
  pullOk,
  sendMessage,
  textMessage,
  uniqueUser,
} from '../support/im.js';
import { describeInfra } from '../support/infra.js';
import type { RawClient } from '../support/raw-client.js';
import { startTestCluster, type TestCluster } from './support/cluster.js';
import { sample } from './support/metrics.js';

/** The edge's deadline (short) and the message service's (long): see the timeout scenario. */
const EDGE_DEADLINE_MS = 800;
const SERVICE_DEADLINE_MS = 15_000;
const SLACK_MS = 2_000;

describeInfra('cluster: order and idempotency survive batching', () => {
  let c: TestCluster;
  const clients: RawClient[] = [];

  async function online(userId: string, edge: number, deviceId = 'd1'): Promise<RawClient> {
    const id: Identity = { userId, deviceId, token: await signDevToken(c.jwtSecret, userId, 3600) };
    const { c: client } = await connectAs(c.endpoints[edge] ?? { host: '', port: 0 }, id);
    clients.push(client);
    return client;
  }

  /** Every message of `user`'s inbox, pulled page by page. */
  async function inbox(client: RawClient): Promise<Message[]> {
    const out: Message[] = [];
    for (let since = 0; ; ) {
      const page = await pullOk(client, since, 500);
      out.push(...page.messages);
      if (!page.hasMore || page.messages.length === 0) return out;
      since = page.messages[page.messages.length - 1]?.seq ?? since;
    }
  }

  /** Resends until OK; any other answer on the way must be UNAVAILABLE (safe to retry). */
  async function untilOk(client: RawClient, m: Message, limitMs = 60_000): Promise<Frame> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const f = await sendMessage(client, m);
      if (f.status === Status.OK) return f;
      expect(statusName(f.status), errorOf(f).message).toBe('UNAVAILABLE');
      if (Date.now() > deadline) throw new Error(`still UNAVAILABLE after ${limitMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    c = await startTestCluster({
      label: 'batching',
      env: { IM_GRPC_DEADLINE_MS: String(SERVICE_DEADLINE_MS) },
      // Only the edges give up early: the message service keeps waiting for storage.
      serviceEnv: { edge: { IM_GRPC_DEADLINE_MS: String(EDGE_DEADLINE_MS) } },
    });
  }, 120_000);

  beforeEach((ctx) => {
    ctx.onTestFailed(async () => console.error(`---- cluster logs ----\n${await c?.logTail()}`));
  });

  afterAll(async () => {
    for (const cl of clients) cl.close();
    for (const p of c?.cluster.all() ?? []) p.kill('SIGCONT');
    await c?.stop();
  });

  it('MS written back to back in one TCP write are stored, acked and delivered in that order', async () => {
    const bob = uniqueUser('bob');
    const a = await online(uniqueUser('alice'), 0);
    const b = await online(bob, 1);
    const n = 40;
    const messages = Array.from({ length: n }, (_, i) => textMessage(bob, `#${i}`));
    const seqs: number[] = [];
    const frames = messages.map((m) => {
      const seq = a.nextSeq();
      seqs.push(seq);
      const [header, body] = encodeFrame({
        seq,
        command: Command.MS,
        flag: packFlag({ flow: Flow.REQUEST }),
        status: 0,
        body: codec.Message.encode(m),
      });
      return Buffer.concat([header, body]);
    });
    a.write(Buffer.concat(frames));
    const acks = [];
    for (const seq of seqs) {
      const f = await a.next((r) => r.command === Command.MS && r.seq === seq, 15_000);
      expect(statusName(f.status)).toBe('OK');
      acks.push(codec.SendAck.decode(f.body));
    }
    // Acked in request order: the sender's own seqs count up, and so do the uids.
    expect(acks.map((x) => x.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    for (let i = 1; i < n; i++) expect(acks[i]?.messageUid).toBeGreaterThan(acks[i - 1]?.messageUid ?? 0n);
    // Delivered across Kafka in that order, at the recipient's seqs 1..n.
    const pushed: Message[] = [];
    while (pushed.length < n) {
      const f = await b.next((r) => r.command === Command.MPS, 15_000);
      pushed.push(codec.Message.decode(f.body));
    }
    expect(pushed.map((m) => m.messageUid)).toEqual(acks.map((x) => x.messageUid));
    expect(pushed.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect((await inbox(b)).map((m) => m.messageId)).toEqual(messages.map((m) => m.messageId));
  }, 60_000);

  it('a batch the edge gave up on, committed later, is stored once when the clients resend it', async () => {
    const bob = uniqueUser('bob');
    const b = await online(bob, 1);
    const senders = await Promise.all(Array.from({ length: 8 }, (_, i) => online(uniqueUser(`s${i}`), 0)));
    const messages = senders.map((_, i) => textMessage(bob, `frozen ${i}`));
    // Storage frozen: the appends wait in its stream; the edges' shorter deadline answers first.
    c.cluster.storage.kill('SIGSTOP');
    let first: Frame[];
    try {
      first = await Promise.all(senders.map((s, i) => sendMessage(s, messages[i] as Message)));
    } finally {
      c.cluster.storage.kill('SIGCONT');
    }
    for (const f of first) {
      expect(statusName(f.status), 'no ack while storage is frozen').toBe('UNAVAILABLE');
    }
    // Thawed, storage commits the batch it held; the resends find it and get the original ack.
    const acks = await Promise.all(
      senders.map(async (s, i) => codec.SendAck.decode((await untilOk(s, messages[i] as Message)).body)),
    );
    const stored = await inbox(b);
    expect(stored.map((m) => m.messageId).sort()).toEqual(messages.map((m) => m.messageId).sort());
    expect(new Set(stored.map((m) => m.messageUid)).size).toBe(messages.length);
    expect(stored.map((m) => m.messageUid).sort()).toEqual(acks.map((a) => a.messageUid).sort());
    expect(acks.every((a) => a.seq === 1)).toBe(true);
  }, 90_000);

  it('the message service SIGKILLed mid-batch: every MS is answered (ack or UNAVAILABLE); resends are stored once', async () => {
    const bob = uniqueUser('bob');
    const b = await online(bob, 1);
    const senders = await Promise.all(Array.from({ length: 12 }, (_, i) => online(uniqueUser(`k${i}`), 0)));
    const sent = senders.map((_, i) => Array.from({ length: 6 }, (_, j) => textMessage(bob, `k${i}-${j}`)));
    const unacked: Message[][] = senders.map(() => []);
    /** Message j of every sender, at once; each must be answered, OK or UNAVAILABLE, within the deadline. */
    const round = (j: number) =>
      Promise.all(
        senders.map(async (s, i) => {
          const m = sent[i]?.[j] as Message;
          const started = Date.now();
          const f = await s.request(
            { command: Command.MS, body: codec.Message.encode(m) },
            EDGE_DEADLINE_MS + SLACK_MS,
          );
          expect(Date.now() - started).toBeLessThan(EDGE_DEADLINE_MS + SLACK_MS);
          if (f.status !== Status.OK) {
            expect(statusName(f.status), errorOf(f).message).toBe('UNAVAILABLE');
            unacked[i]?.push(m);
          }
          return f.status;
        }),
      );
    expect(await round(0)).toEqual(senders.map(() => Status.OK));
    // Mid-batch: storage frozen, so the message service holds the batch's appends when it dies.
    c.cluster.storage.kill('SIGSTOP');
    let inFlight: Promise<number[]>;
    try {
      inFlight = round(1);
      await expect
        .poll(
          async () =>
            sample(await c.cluster.message.metrics(), 'im_grpc_batch_in_flight', { method: 'SendStream' }),
          {
            timeout: 10_000,
          },
        )
        .toBe(senders.length);
      c.cluster.message.kill('SIGKILL');
      // The stream broke: every item of the batch is answered UNAVAILABLE at once.
      expect(await inFlight).toEqual(senders.map(() => Status.UNAVAILABLE));
    } finally {
      c.cluster.storage.kill('SIGCONT');
    }
    await c.cluster.message.waitExit(5_000);
    // While it is down: UNAVAILABLE, fast.
    expect(await round(2)).toEqual(senders.map(() => Status.UNAVAILABLE));
    await c.cluster.message.start();
    for (let j = 3; j < 6; j++) await round(j);
    for (const [i, s] of senders.entries()) for (const m of unacked[i] as Message[]) await untilOk(s, m);
    const stored = await inbox(b);
    const ids = stored.map((m) => m.messageId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(
      sent
        .flat()
        .map((m) => m.messageId)
        .sort(),
    );
  }, 120_000);
});
