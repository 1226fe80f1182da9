/**
 * Issue 3 "Bad input and faults": a backend down or slow gives the client UNAVAILABLE within the
 * gRPC deadline — never a hang, never an ack (protocol.md §3 UNAVAILABLE: safe to retry the same
 * request) — and service resumes when the backend is back; a retried MS is stored once (§6 Send).
 *
 * PostgreSQL here is this file's own server (initdb + pg_ctl on a free port, as test/infra/start.sh
 * does for the shared one), so stopping it cannot break the other test files. The gRPC services are
 * the cluster's own processes: killed (SIGKILL) for "down", frozen (SIGSTOP) for "slow".
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signDevToken } from '../../packages/core/src/index.js';
import { Command, codec, type Frame, Status, statusName } from '../../packages/protocol/src/index.js';
import {
  connectAs,
  errorOf,
  type Identity,
  loginBody,
  pullOk,
  sendMessage,
  sleep,
  textMessage,
  uniqueUser,
} from '../support/im.js';
import { describeInfra } from '../support/infra.js';
import { RawClient } from '../support/raw-client.js';
import { startTestCluster, type TestCluster } from './support/cluster.js';
import { type PrivatePostgres, startPrivatePostgres } from './support/private-postgres.js';

const DEADLINE_MS = 1_500;
/** An UNAVAILABLE must come within the deadline plus this (scheduling on a busy 2-core machine). */
const SLACK_MS = 1_500;
const RECOVERY_MS = 30_000;

describeInfra('cluster: a backend down or slow', () => {
  let pg: PrivatePostgres | null = null;
  let c: TestCluster;
  const clients: RawClient[] = [];

  async function identity(userId: string, deviceId = 'd1'): Promise<Identity> {
    return { userId, deviceId, token: await signDevToken(c.jwtSecret, userId, 3600) };
  }
  async function online(userId: string, edge: number) {
    const r = await connectAs(c.endpoints[edge] ?? { host: '', port: 0 }, await identity(userId));
    clients.push(r.c);
    return r.c;
  }
  /** The request's answer and how long it took; a missing answer fails the test (a hang). */
  async function timed(p: Promise<Frame>): Promise<{ f: Frame; ms: number }> {
    const started = Date.now();
    const f = await p;
    return { f, ms: Date.now() - started };
  }
  function expectUnavailable({ f, ms }: { f: Frame; ms: number }) {
    const why = f.status === Status.OK ? 'an OK' : `${statusName(f.status)}: ${errorOf(f).message}`;
    expect(f.status, `expected UNAVAILABLE, got ${why}`).toBe(Status.UNAVAILABLE);
    expect(errorOf(f).message.length).toBeGreaterThan(0);
    expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
  }
  /** Repeats the request until OK; every other answer on the way must be UNAVAILABLE. */
  async function untilOk(request: () => Promise<Frame>): Promise<Frame> {
    const deadline = Date.now() + RECOVERY_MS;
    for (;;) {
      const f = await request();
      if (f.status === Status.OK) return f;
      expect(statusName(f.status)).toBe(statusName(Status.UNAVAILABLE));
      if (Date.now() > deadline) throw new Error(`still UNAVAILABLE after ${RECOVERY_MS} ms`);
      await sleep(250);
    }
  }
  const request = (cl: RawClient, f: Parameters<RawClient['request']>[0]) =>
    cl.request(f, DEADLINE_MS + SLACK_MS + 5_000);

  beforeAll(async () => {
    // Always a private server, also when the shared backends come from URLs (test/infra/start.sh
    // installs the binaries either way): the scenario stops it, which must not touch other files.
    pg = await startPrivatePostgres();
    c = await startTestCluster({
      label: 'backends',
      env: { ...(pg ? { DATABASE_URL: pg.url } : {}), IM_GRPC_DEADLINE_MS: String(DEADLINE_MS) },
    });
  });

  beforeEach((ctx) => {
    ctx.onTestFailed(async () => console.error(`---- cluster logs ----\n${await c?.logTail()}`));
  });

  afterAll(async () => {
    for (const cl of clients) cl.close();
    // A frozen process cannot exit: thaw everything before stopping.
    for (const p of c?.cluster.all() ?? []) p.kill('SIGCONT');
    await c?.stop();
    await pg?.destroy();
  });

  describe('PostgreSQL', () => {
    it('stopped: MS and MP get UNAVAILABLE, no ack; back: the same MS is stored once and delivered', async () => {
      const bob = uniqueUser('bob');
      const a = await online(uniqueUser('alice'), 0);
      const b = await online(bob, 1);
      const m = textMessage(bob, 'during the outage', { messageId: 1234n });

      const db = pg as PrivatePostgres;
      await db.stop();
      try {
        expectUnavailable(await timed(request(a, { command: Command.MS, body: codec.Message.encode(m) })));
        expectUnavailable(
          await timed(request(b, { command: Command.MP, body: codec.PullRequest.encode({ since: 0 }) })),
        );
        // The edges themselves are fine.
        expect((await request(a, { command: Command.PING })).status).toBe(Status.OK);
      } finally {
        await db.start();
      }

      const ok = await untilOk(() => sendMessage(a, m));
      const ack = codec.SendAck.decode(ok.body);
      const pulled = await pullOk(b, 0);
      expect(pulled.messages.map((x) => x.messageUid)).toEqual([ack.messageUid]);
      expect(pulled.head).toBe(1);
    }, 60_000);
  });

  it('the storage service killed: MS is UNAVAILABLE at once; restarted: sends work again', async () => {
    const bob = uniqueUser('bob');
    const a = await online(uniqueUser('alice'), 0);
    c.cluster.storage.kill('SIGKILL');
    await c.cluster.storage.waitExit(5_000);
    const m = textMessage(bob, 'storage down');
    expectUnavailable(await timed(request(a, { command: Command.MS, body: codec.Message.encode(m) })));
    await c.cluster.storage.start();
    const ack = codec.SendAck.decode((await untilOk(() => sendMessage(a, m))).body);
    expect(ack.seq).toBe(1);
  }, 90_000);

  it('the storage service frozen (slow): MS is UNAVAILABLE within the deadline, not a hang', async () => {
    const bob = uniqueUser('bob');
    const a = await online(uniqueUser('alice'), 1);
    const m = textMessage(bob, 'storage slow');
    c.cluster.storage.kill('SIGSTOP');
    let res: { f: Frame; ms: number };
    try {
      res = await timed(request(a, { command: Command.MS, body: codec.Message.encode(m) }));
    } finally {
      c.cluster.storage.kill('SIGCONT');
    }
    expectUnavailable(res);
    // It waited for the deadline (the call was in flight), it did not fail fast for another reason.
    expect(res.ms).toBeGreaterThanOrEqual(DEADLINE_MS * 0.8);
    const ack = codec.SendAck.decode((await untilOk(() => sendMessage(a, m))).body);
    // Retried with the same messageId: however the frozen attempt ended, one message.
    expect(ack.seq).toBe(1);
  }, 60_000);

  it('the message service killed: MS is UNAVAILABLE, the edge still answers PING; restarted: sends work', async () => {
    const bob = uniqueUser('bob');
    const a = await online(uniqueUser('alice'), 0);
    c.cluster.message.kill('SIGKILL');
    await c.cluster.message.waitExit(5_000);
    const m = textMessage(bob, 'message service down');
    expectUnavailable(await timed(request(a, { command: Command.MS, body: codec.Message.encode(m) })));
    expect((await request(a, { command: Command.PING })).status).toBe(Status.OK);
    await c.cluster.message.start();
    const ack = codec.SendAck.decode((await untilOk(() => sendMessage(a, m))).body);
    expect(ack.seq).toBe(1);
    // Edge 2 has not called the message service since it came back: its channel may still be in
    // reconnect backoff (capped at 5 s, packages/rpc/src/client.ts), so LOGIN may be UNAVAILABLE
    // for a moment — and only that.
    const id = await identity(bob);
    let b: RawClient | undefined;
    await untilOk(async () => {
      b = await RawClient.connect(c.endpoints[1]?.port ?? 0);
      clients.push(b);
      return request(b, { command: Command.LOGIN, body: loginBody(id) });
    });
    expect((await pullOk(b as RawClient, 0)).messages.map((x) => x.messageUid)).toEqual([ack.messageUid]);
  }, 90_000);

  it('the presence service frozen: LOGIN is UNAVAILABLE within the deadline; thawed: LOGIN works', async () => {
    const id = await identity(uniqueUser('late'));
    const cl = await RawClient.connect(c.endpoints[0]?.port ?? 0);
    clients.push(cl);
    c.cluster.presence.kill('SIGSTOP');
    let res: { f: Frame; ms: number };
    try {
      res = await timed(request(cl, { command: Command.LOGIN, body: loginBody(id) }));
    } finally {
      c.cluster.presence.kill('SIGCONT');
    }
    expectUnavailable(res);
    // A refused LOGIN leaves the connection open for another try (protocol.md §6 Session).
    expect(cl.isClosed).toBe(false);
    const ok = await untilOk(async () => {
      const fresh = await RawClient.connect(c.endpoints[0]?.port ?? 0);
      clients.push(fresh);
      return request(fresh, { command: Command.LOGIN, body: loginBody(id) });
    });
    expect(codec.LoginResponse.decode(ok.body).sessionId.length).toBeGreaterThan(0);
  }, 60_000);
});
