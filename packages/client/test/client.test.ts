/**
 * ImClient against a tiny fake server (test/helpers/fake-server.ts) on a real loopback socket:
 * reconnect with backoff, resync after reconnect, dedup by uid, seq gap → pull, timeouts, kick.
 * For both entries: the fake server speaks TCP, so the browser build is given the TCP connector
 * (its session logic and runtime are what is tested here; its WebSocket, in embedded.test.ts).
 */
import { Command, codec, Status } from '@im/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConnectionError,
  type Connector,
  type ImClientOptions,
  KickedError,
  nodeConnector,
  RequestTimeoutError,
  UnauthorizedError,
  UnavailableError,
} from '../src/index.js';
import { type AnyImClient, ENTRIES } from './helpers/entries.js';
import { FakeServer, message } from './helpers/fake-server.js';
import { waitFor } from './helpers/wait.js';

let server: FakeServer;
const clients: AnyImClient[] = [];

beforeEach(async () => {
  server = new FakeServer();
  await server.listen();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server.stop();
});

function collect(c: AnyImClient): string[] {
  const texts: string[] = [];
  c.on('message', (m) => texts.push(`${m.seq}:${m.messageContent?.searchableContent}`));
  return texts;
}

const pullsSince = () =>
  server.requests.filter((r) => r.command === Command.MP).map((r) => codec.PullRequest.decode(r.body).since);

describe.each(ENTRIES)('ImClient with a fake server ($name entry)', ({ sdk }) => {
  function client(opts: Partial<ImClientOptions> = {}): AnyImClient {
    const c = new sdk.ImClient({
      host: '127.0.0.1',
      port: server.port,
      userId: 'bob',
      token: 't',
      deviceId: 'd1',
      backoff: { minMs: 20, maxMs: 200 },
      requestTimeoutMs: 2_000,
      connector: nodeConnector,
      ...opts,
    });
    clients.push(c);
    return c;
  }

  it('logs in, starts at the inbox head, and receives pushes in order', async () => {
    server.store('bob', 'alice', 'old');
    const c = client();
    const texts = collect(c);
    const login = await c.connect();
    expect(login.head).toBe(1);
    expect(c.state).toBe('connected');
    server.push('bob', server.store('bob', 'alice', 'hello'));
    server.push('bob', server.store('bob', 'alice', 'again'));
    await waitFor('two messages', () => texts.length === 2);
    expect(texts).toEqual(['2:hello', '3:again']);
    expect(c.lastSeq).toBe(3);
  });

  it('a seeded lastSeq pulls the missing messages after connect, paging until hasMore is false', async () => {
    for (let i = 1; i <= 250; i++) server.store('bob', 'alice', `m${i}`);
    const c = client({ lastSeq: 20, syncLimit: 100 });
    const texts = collect(c);
    await c.connect();
    await waitFor('230 messages', () => texts.length === 230);
    expect(texts[0]).toBe('21:m21');
    expect(texts.at(-1)).toBe('250:m250');
    expect(pullsSince()).toEqual([20, 120, 220]);
  });

  it('a held seq above the server head (server data reset) restarts from the head', async () => {
    server.store('bob', 'alice', 'only');
    const c = client({ lastSeq: 50 });
    const texts = collect(c);
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    await c.connect();
    expect(c.lastSeq).toBe(1);
    expect(errors[0]?.message).toContain('below the held seq 50');
    server.push('bob', server.store('bob', 'alice', 'new'));
    await waitFor('new message', () => texts.length === 1);
    expect(texts).toEqual(['2:new']);
  });

  it('a seq gap in pushes triggers a pull and the messages come out in seq order', async () => {
    const c = client();
    const texts = collect(c);
    await c.connect();
    server.store('bob', 'alice', 'one'); // never pushed
    server.push('bob', server.store('bob', 'alice', 'two'));
    await waitFor('both messages', () => texts.length === 2);
    expect(texts).toEqual(['1:one', '2:two']);
    expect(pullsSince()).toEqual([0]);
  });

  it('drops duplicates by messageUid (pushed twice, and pulled again)', async () => {
    const c = client();
    const texts = collect(c);
    await c.connect();
    const m1 = server.store('bob', 'alice', 'once');
    server.push('bob', m1);
    server.push('bob', m1);
    const transient = message({ from: 'alice', to: 'bob', text: 'typing', uid: 99n, seq: 0 });
    server.push('bob', transient);
    server.push('bob', transient);
    // An MN makes the client pull from its lastSeq; nothing new → nothing re-emitted.
    const s = server.sessionsOf('bob')[0];
    if (!s) throw new Error('no session');
    server.notify(s, Command.MN, codec.Notify.encode({ head: 1 }));
    server.push('bob', server.store('bob', 'alice', 'next'));
    await waitFor('next', () => texts.includes('2:next'));
    await new Promise((r) => setTimeout(r, 50));
    expect(texts).toEqual(['1:once', '0:typing', '2:next']);
  });

  it('MN makes the client pull up to the head', async () => {
    const c = client();
    const texts = collect(c);
    const notifies: number[] = [];
    c.on('notify', (n) => notifies.push(n.head));
    await c.connect();
    server.store('bob', 'alice', 'a');
    server.store('bob', 'alice', 'b');
    const s = server.sessionsOf('bob')[0];
    if (!s) throw new Error('no session');
    server.notify(s, Command.MN, codec.Notify.encode({ head: 2 }));
    await waitFor('two messages', () => texts.length === 2);
    expect(texts).toEqual(['1:a', '2:b']);
    expect(notifies).toEqual([2]);
  });

  it('reconnects after the server drops it and resyncs what arrived meanwhile', async () => {
    const c = client();
    const texts = collect(c);
    const events: string[] = [];
    c.on('disconnect', (e) => events.push(`disconnect:${(e as ConnectionError).code}`));
    c.on('reconnect', () => events.push('reconnect'));
    await c.connect();
    server.push('bob', server.store('bob', 'alice', 'before'));
    await waitFor('first message', () => texts.length === 1);

    server.dropConnections();
    await waitFor('disconnect', () => events.length === 1);
    expect(c.state === 'reconnecting' || c.state === 'connected').toBe(true);
    // Stored while the client is away: never pushed to it.
    server.store('bob', 'alice', 'while away 1');
    server.store('bob', 'alice', 'while away 2');
    await waitFor('resync', () => texts.length === 3);
    expect(events).toEqual(['disconnect:CLOSED', 'reconnect']);
    expect(texts).toEqual(['1:before', '2:while away 1', '3:while away 2']);
    expect(server.logins).toBe(2);
    expect(pullsSince()).toEqual([1]);
  });

  it('backs off exponentially while the server refuses, then reconnects', async () => {
    const attempts: number[] = [];
    const connector: Connector = (ep) => {
      attempts.push(Date.now());
      return nodeConnector(ep);
    };
    const c = client({ connector, backoff: { minMs: 40, maxMs: 2_000 } });
    await c.connect();
    const port = server.port;
    await server.stop(); // now the port refuses
    await waitFor('four refused attempts', () => attempts.length >= 5, 10_000);
    await server.listen(port);
    await waitFor('reconnected', () => c.state === 'connected', 10_000);
    // attempts[0] is the first connect; delay k is jittered within [40·2^k / 2, 40·2^k].
    const gaps = attempts.slice(1, 5).map((t, i) => t - (attempts[i] as number));
    for (let k = 1; k < gaps.length; k++) {
      expect(gaps[k] as number).toBeGreaterThanOrEqual((40 * 2 ** k) / 2 - 5);
    }
    expect(gaps[3] as number).toBeGreaterThan(gaps[0] as number);
  });

  it('rejects a request after requestTimeoutMs with RequestTimeoutError', async () => {
    const c = client({ requestTimeoutMs: 150 });
    await c.connect();
    server.silent.add(Command.PING);
    const started = Date.now();
    const err = await c.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(c.state).toBe('connected');
  });

  it('rejects pending sends at a disconnect with the messageId to retry; the retry is deduplicated', async () => {
    const c = client();
    await c.connect();
    server.silent.add(Command.MS);
    const sending = c.sendText('alice', 'hi');
    await waitFor('MS received', () => server.requests.some((r) => r.command === Command.MS));
    server.dropConnections();
    const err = (await sending.catch((e: unknown) => e)) as ConnectionError;
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.code).toBe('CLOSED');
    expect(typeof err.messageId).toBe('bigint');
    await expect(c.sendText('alice', 'while down')).rejects.toMatchObject({ code: 'NOT_CONNECTED' });

    await waitFor('reconnected', () => c.state === 'connected');
    server.silent.delete(Command.MS);
    const retry = {
      conversation: { type: 0, target: 'alice' },
      content: { contentType: 1, searchableContent: 'hi' },
    };
    const first = await c.send({ ...retry, messageId: err.messageId });
    const again = await c.send({ ...retry, messageId: err.messageId });
    expect(again.messageUid).toBe(first.messageUid);
    expect(server.inbox('alice')).toHaveLength(1);
    // A fresh send gets a new id.
    const fresh = await c.sendText('alice', 'new');
    expect(fresh.messageId).toBeGreaterThan(err.messageId as bigint);
    expect(server.inbox('alice')).toHaveLength(2);
  });

  it('sends in flight at a drain hint reject with UnavailableError, each with its own messageId', async () => {
    // protocol.md §6 Shutdown: the LOGOUT notify closes the connection; every pending request gets
    // that one close reason, but each send must hand back the id it was sent with.
    const c = client();
    await c.connect();
    server.silent.add(Command.MS);
    const sends = ['one', 'two', 'three'].map((t) => c.sendText('alice', t).catch((e: unknown) => e));
    await waitFor(
      '3 MS received',
      () => server.requests.filter((r) => r.command === Command.MS).length === 3,
    );
    const sentIds = server.requests
      .filter((r) => r.command === Command.MS)
      .map((r) => codec.Message.decode(r.body).messageId);
    const [session] = server.sessionsOf('bob');
    server.notify(
      session as NonNullable<typeof session>,
      Command.LOGOUT,
      codec.ErrorInfo.encode({ message: 'server shutting down', retryAfterMs: 50 }),
      Status.UNAVAILABLE,
    );
    const errs = (await Promise.all(sends)) as UnavailableError[];
    for (const err of errs) {
      expect(err).toBeInstanceOf(UnavailableError);
      expect(err.statusName).toBe('UNAVAILABLE');
    }
    expect(errs.map((e) => e.messageId)).toEqual(sentIds);
    expect(new Set(errs).size).toBe(3);
  });

  it('own sends fill our own seqs, so the next push is not a gap', async () => {
    const c = client();
    const texts = collect(c);
    await c.connect();
    const ack = await c.sendText('alice', 'mine');
    expect(ack.seq).toBe(1);
    server.push('bob', server.store('bob', 'alice', 'reply'));
    await waitFor('reply', () => texts.length === 1);
    expect(texts).toEqual(['2:reply']);
    expect(pullsSince()).toEqual([]);
  });

  it('a drain hint (LOGOUT UNAVAILABLE): reconnects to the next address after retryAfterMs, then resyncs', async () => {
    // protocol.md §6 Shutdown. A second edge of the "cluster": same inboxes, other port.
    const other = new FakeServer();
    await other.listen();
    try {
      other.inboxes.set('bob', server.inbox('bob'));
      const HINT_MS = 300;
      const c = client({ endpoints: [{ host: '127.0.0.1', port: other.port }] });
      const texts = collect(c);
      const draining: number[] = [];
      c.on('draining', (e) => draining.push(e.retryAfterMs));
      let reconnectedAt = 0;
      c.on('reconnect', () => {
        reconnectedAt = Date.now();
      });
      await c.connect();
      server.push('bob', server.store('bob', 'alice', 'before'));
      await waitFor('first message', () => texts.length === 1);

      server.store('bob', 'alice', 'during the drain');
      const [session] = server.sessionsOf('bob');
      const hintedAt = Date.now();
      server.notify(
        session as NonNullable<typeof session>,
        Command.LOGOUT,
        codec.ErrorInfo.encode({ message: 'server shutting down', retryAfterMs: HINT_MS }),
        Status.UNAVAILABLE,
      );
      session?.socket.end();
      await waitFor('resync on the other edge', () => texts.length === 2);
      expect(texts).toEqual(['1:before', '2:during the drain']);
      expect(draining).toEqual([HINT_MS]);
      // The hint, not the (20 ms) backoff, set the delay; and the other address was used.
      expect(reconnectedAt - hintedAt).toBeGreaterThanOrEqual(HINT_MS - 1);
      expect([server.logins, other.logins]).toEqual([1, 1]);
      expect(c.endpoint.port).toBe(other.port);
      expect(
        other.requests
          .filter((r) => r.command === Command.MP)
          .map((r) => codec.PullRequest.decode(r.body).since),
      ).toEqual([1]);
    } finally {
      await other.stop();
    }
  });

  it('moves on to the next address when a reconnect fails', async () => {
    const other = new FakeServer();
    await other.listen();
    try {
      const c = client({ endpoints: [{ host: '127.0.0.1', port: other.port }] });
      await c.connect();
      await server.stop(); // drops the connection; the port now refuses
      await waitFor('reconnected to the other address', () => other.logins === 1 && c.state === 'connected');
      expect(c.endpoint.port).toBe(other.port);
    } finally {
      await other.stop();
    }
  });

  it('emits kicked and does not reconnect', async () => {
    const c = client();
    await c.connect();
    const kicked: KickedError[] = [];
    const reasons: Error[] = [];
    c.on('kicked', (e) => kicked.push(e));
    c.on('disconnect', (e) => reasons.push(e));
    server.kick('bob');
    await waitFor('disconnect', () => reasons.length === 1);
    expect(kicked[0]).toBeInstanceOf(KickedError);
    expect(kicked[0]?.reason).toBe('logged in on another connection');
    expect(reasons[0]).toBe(kicked[0]);
    expect(c.state).toBe('closed');
    await new Promise((r) => setTimeout(r, 150));
    expect(server.logins).toBe(1);
  });

  it('rejects connect with UnauthorizedError carrying the reason', async () => {
    server.badTokens.add('bad');
    const err = await client({ token: 'bad' })
      .connect()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect(err).toMatchObject({ statusName: 'UNAUTHORIZED', reason: 'token signature is invalid' });
  });

  it('rejects connect with ConnectionError REFUSED when nothing listens', async () => {
    const port = server.port;
    await server.stop();
    const err = await client({ port })
      .connect()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ code: 'REFUSED' });
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
  });

  it('calls getToken for every login', async () => {
    let calls = 0;
    const c = client({ token: undefined, getToken: async () => `t${++calls}` });
    await c.connect();
    server.dropConnections();
    await waitFor('reconnected', () => server.logins === 2 && c.state === 'connected');
    const tokens = server.requests
      .filter((r) => r.command === Command.LOGIN)
      .map((r) => codec.LoginRequest.decode(r.body).token);
    expect(tokens).toEqual(['t1', 't2']);
  });

  it('logout closes without reconnecting', async () => {
    const c = client();
    await c.connect();
    await c.logout();
    expect(c.state).toBe('closed');
    expect(server.requests.at(-1)?.command).toBe(Command.LOGOUT);
    await new Promise((r) => setTimeout(r, 100));
    expect(server.logins).toBe(1);
  });
});
