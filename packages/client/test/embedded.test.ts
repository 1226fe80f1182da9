/**
 * ImClient against the real server (services/embedded, in-process, port 0): login, send/receive,
 * recall, the kicked event, reconnect + resync, and typed errors for refused requests — the Node
 * entry over TCP, the browser entry over WebSocket (protocol.md §1), and the two talking to each other.
 */
import { ContentType, type Message } from '@im/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectionError,
  chatroom,
  ForbiddenError,
  type ImClientOptions,
  KickedError,
  messageText,
  NotFoundError,
  recalledUid,
  single,
  UnauthorizedError,
} from '../src/index.js';
import { startTestServer, type TestServer } from './helpers/embedded.js';
import { type AnyImClient, ENTRIES, type Entry } from './helpers/entries.js';
import { waitFor } from './helpers/wait.js';

let t: TestServer;
const clients: AnyImClient[] = [];
let userCounter = 0;

beforeAll(async () => {
  t = await startTestServer();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await t?.stop();
});

/** A fresh user id per test, so inboxes never mix. */
const user = (name: string) => `${name}-${++userCounter}`;

/** The server's port for an entry's default transport. */
const portFor = (e: Entry, srv: TestServer) => (e.transport === 'ws' ? srv.wsPort : srv.port);

async function clientOf(e: Entry, userId: string, opts: Partial<ImClientOptions> = {}): Promise<AnyImClient> {
  const c = new e.sdk.ImClient({
    host: '127.0.0.1',
    port: portFor(e, t),
    userId,
    token: await t.token(userId),
    deviceId: 'dev-1',
    backoff: { minMs: 50, maxMs: 500 },
    ...opts,
  });
  clients.push(c);
  return c;
}

function inbox(c: AnyImClient): Message[] {
  const got: Message[] = [];
  c.on('message', (m) => got.push(m));
  return got;
}

describe('the Node entry (TCP) and the browser entry (WebSocket) together', () => {
  const [node, browser] = ENTRIES as [Entry, Entry];

  it("chat both ways, and one user on both sees the other device's message", async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const a = await clientOf(browser, alice);
    const b = await clientOf(node, bob);
    const a2 = await clientOf(node, alice, { deviceId: 'dev-2' });
    await Promise.all([a.connect(), b.connect(), a2.connect()]);
    const [gotA, gotB, gotA2] = [inbox(a), inbox(b), inbox(a2)];
    const ack = await a.sendText(bob, 'from the browser');
    await waitFor("bob and alice's other device", () => gotB.length === 1 && gotA2.length === 1);
    expect([gotB[0]?.messageUid, gotA2[0]?.messageUid]).toEqual([ack.messageUid, ack.messageUid]);
    const back = await b.sendText(alice, 'from node');
    await waitFor('alice on both', () => gotA.length === 1 && gotA2.length === 2);
    expect(messageText(gotA[0] as Message)).toBe('from node');
    expect(gotA[0]?.messageUid).toBe(back.messageUid);
  });
});

describe.each(ENTRIES)('ImClient against the embedded server ($name entry)', (entry) => {
  const client = (userId: string, opts: Partial<ImClientOptions> = {}) => clientOf(entry, userId, opts);

  it('logs in and exchanges a message with server fields filled', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const a = await client(alice);
    const b = await client(bob);
    const login = await a.connect();
    expect(login.heartbeatSeconds).toBeGreaterThan(0);
    expect(login.head).toBe(0);
    await b.connect();
    const got = inbox(b);

    const ack = await a.sendText(bob, 'hello bob');
    expect(ack.seq).toBe(1);
    expect(ack.messageUid).toBeGreaterThan(0n);
    const [m] = await waitFor('bob receives', () => (got.length === 1 ? got : undefined));
    expect(m).toMatchObject({
      from: alice,
      to: bob,
      seq: 1,
      messageUid: ack.messageUid,
      serverTime: ack.serverTime,
    });
    expect(messageText(m as Message)).toBe('hello bob');
    expect(b.lastSeq).toBe(1);
    expect(await a.ping()).toBeGreaterThanOrEqual(0);

    // Both see it in the conversation history; alice's own send kept her lastSeq contiguous.
    const hist = await b.history(single(alice));
    expect(hist.messages.map((x) => x.messageUid)).toEqual([ack.messageUid]);
    expect(a.lastSeq).toBe(1);
  });

  it('recall: the recipient gets a RECALL message and a pull shows the original wiped', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const a = await client(alice);
    const b = await client(bob);
    await a.connect();
    await b.connect();
    const got = inbox(b);
    const ack = await a.sendText(bob, 'oops');
    await waitFor('original', () => got.length === 1);

    await expect(b.recall(ack.messageUid)).rejects.toBeInstanceOf(ForbiddenError);
    await a.recall(ack.messageUid);
    await waitFor('recall notice', () => got.length === 2);
    const notice = got[1] as Message;
    expect(notice.messageContent?.contentType).toBe(ContentType.RECALL);
    expect(recalledUid(notice)).toBe(ack.messageUid);
    expect(notice.from).toBe(alice);

    const page = await b.pull({ since: 0 });
    const original = page.messages.find((x) => x.messageUid === ack.messageUid);
    expect(original?.messageContent?.contentType).toBe(ContentType.RECALL);
    expect(original?.messageContent?.searchableContent).toBe('');
  });

  it('typing is transient: delivered with seq 0 and does not move lastSeq', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const a = await client(alice);
    const b = await client(bob);
    await a.connect();
    await b.connect();
    const got = inbox(b);
    const ack = await a.typing(single(bob));
    expect(ack.seq).toBe(0);
    await waitFor('typing', () => got.length === 1);
    expect(got[0]).toMatchObject({ seq: 0, from: alice });
    expect(got[0]?.messageContent?.contentType).toBe(ContentType.TYPING);
    expect(b.lastSeq).toBe(0);
    await a.sendText(bob, 'after typing');
    await waitFor('text', () => got.length === 2);
    expect(got[1]?.seq).toBe(1);
  });

  it('a second login of the same device kicks the first, which does not reconnect', async () => {
    const bob = user('bob');
    const first = await client(bob);
    await first.connect();
    const kicked: KickedError[] = [];
    first.on('kicked', (e) => kicked.push(e));
    const second = await client(bob);
    await second.connect();
    await waitFor('kicked', () => kicked.length === 1);
    expect(kicked[0]).toBeInstanceOf(KickedError);
    expect(kicked[0]?.statusName).toBe('KICKED');
    await waitFor('closed', () => first.state === 'closed');
    await new Promise((r) => setTimeout(r, 200));
    expect(first.state).toBe('closed');
    expect(second.state).toBe('connected');
    await expect(first.ping()).rejects.toBeInstanceOf(ConnectionError);
    expect(await second.ping()).toBeGreaterThanOrEqual(0);
  });

  it('reconnects after the connection drops and pulls what was sent meanwhile, in order', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const a = await client(alice);
    const b = await client(bob, { backoff: { minMs: 400, maxMs: 800 } });
    await a.connect();
    await b.connect();
    const got = inbox(b);
    await a.sendText(bob, 'one');
    await waitFor('one', () => got.length === 1);

    const reconnected = new Promise((resolve) => b.once('reconnect', resolve));
    b.connection?.destroy(); // as if the network dropped
    await waitFor('reconnecting', () => b.state === 'reconnecting');
    await a.sendText(bob, 'two');
    await a.sendText(bob, 'three');
    await reconnected;
    await waitFor('resync', () => got.length === 3);
    expect(got.map((m) => [m.seq, messageText(m)])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
  });

  it('survives a server restart: backs off, reconnects, resyncs from the stored inbox', async () => {
    const restartable = await startTestServer();
    const [alice, bob] = [user('alice'), user('bob')];
    const mk = async (u: string, backoffMs: number) => {
      const c = new entry.sdk.ImClient({
        host: '127.0.0.1',
        port: portFor(entry, restartable),
        userId: u,
        token: await restartable.token(u),
        deviceId: 'dev-1',
        backoff: { minMs: backoffMs, maxMs: backoffMs * 2 },
      });
      clients.push(c);
      return c;
    };
    let again: TestServer | undefined;
    try {
      const b = await mk(bob, 600);
      await b.connect();
      const got = inbox(b);
      const { port, wsPort } = restartable;
      await restartable.stop({ keepData: true });
      await waitFor('reconnecting', () => b.state === 'reconnecting');
      again = await startTestServer({ edge: { port, wsPort } }, restartable.dataDir);
      // Sent by alice before bob's backoff lets him back in: bob is offline for it.
      const a = await mk(alice, 50);
      await a.connect();
      await a.sendText(bob, 'while you were away');
      await waitFor('resync after restart', () => got.length === 1, 10_000);
      expect(messageText(got[0] as Message)).toBe('while you were away');
      expect(b.state).toBe('connected');
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await again?.stop();
    }
  }, 40_000);

  it('maps refused requests to typed errors with the server reason', async () => {
    const bob = user('bob');
    const bad = new entry.sdk.ImClient({
      host: '127.0.0.1',
      port: portFor(entry, t),
      userId: bob,
      token: 'not-a-jwt',
      deviceId: 'd',
      reconnect: false,
    });
    clients.push(bad);
    const err = await bad.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect((err as UnauthorizedError).reason).not.toBe('');

    const wrongUser = await client(bob, { token: await t.token('someone-else') });
    await expect(wrongUser.connect()).rejects.toBeInstanceOf(UnauthorizedError);

    const b = await client(bob);
    await b.connect();
    await expect(b.joinChatroom('no-such-room')).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      b.send({ conversation: chatroom('no-such-room'), content: { contentType: 1 } }),
    ).rejects.toMatchObject({
      statusName: expect.stringMatching(/FORBIDDEN|NOT_FOUND/),
    });
  });
});
