/**
 * Issue 3 item 8, the cluster's own scenarios (protocol.md §6 Session, Delivery, Guarantee): users on
 * different edge nodes exchange messages through Kafka, a second device on the other edge gets the
 * copy, a second login on another edge kicks the first, and an edge killed with SIGKILL
 * mid-conversation loses nothing that was acked. One cluster for the file (2 edges, the services as
 * OS processes, the test Redis / Kafka / PostgreSQL); the SIGKILL scenario runs last.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { messageText } from '../../packages/client/src/index.js';
import { uniqueUser } from '../support/im.js';
import { describeInfra } from '../support/infra.js';
import {
  inboxProblems,
  pullAll,
  sendUntilAcked,
  type TrackedClient,
  trackedClient,
} from './support/clients.js';
import { startTestCluster, type TestCluster } from './support/cluster.js';

const DELIVERY_MS = 10_000;

describeInfra('cluster: users on different edges', () => {
  let c: TestCluster;
  const clients: TrackedClient[] = [];

  async function device(userId: string, deviceId: string, edge: number): Promise<TrackedClient> {
    const t = await trackedClient(c.endpoints, c.jwtSecret, userId, deviceId, edge);
    clients.push(t);
    return t;
  }

  const uids = (t: TrackedClient) => t.received.map((m) => m.messageUid);

  beforeAll(async () => {
    c = await startTestCluster({ label: 'cross_edge' });
  });

  beforeEach((ctx) => {
    ctx.onTestFailed(async () => console.error(`---- cluster logs ----\n${await c?.logTail()}`));
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((t) => t.client.close()));
    await c?.stop();
  });

  it('alice on edge 1 and bob on edge 2 exchange messages through Kafka, in order', async () => {
    const [alice, bob] = [uniqueUser('alice'), uniqueUser('bob')];
    const a = await device(alice, 'phone', 0);
    const b = await device(bob, 'phone', 1);
    expect((await c.routes(alice)).map((r) => r.nodeId)).toEqual(['edge-1']);
    expect((await c.routes(bob)).map((r) => r.nodeId)).toEqual(['edge-2']);

    const toBob: bigint[] = [];
    const toAlice: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      toBob.push((await a.client.sendText(bob, `a${i}`)).messageUid);
      toAlice.push((await b.client.sendText(alice, `b${i}`)).messageUid);
    }
    await expect.poll(() => uids(b), { timeout: DELIVERY_MS }).toEqual(toBob);
    await expect.poll(() => uids(a), { timeout: DELIVERY_MS }).toEqual(toAlice);
    expect(b.received.map(messageText)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    // One conversation, one order: each inbox holds all ten, seq 1..10, in the order accepted.
    const inbox = await pullAll(b.client);
    expect(inboxProblems('bob', inbox, [...toBob, ...toAlice])).toEqual([]);
    expect(inbox.messages.map(messageText)).toEqual([
      'a0',
      'b0',
      'a1',
      'b1',
      'a2',
      'b2',
      'a3',
      'b3',
      'a4',
      'b4',
    ]);
  });

  it("bob's second device on edge 1 gets the copy of what bob sends and of what bob receives", async () => {
    const [alice, bob] = [uniqueUser('alice'), uniqueUser('bob')];
    const a = await device(alice, 'phone', 0);
    const phone = await device(bob, 'phone', 1);
    const laptop = await device(bob, 'laptop', 0);
    expect((await c.routes(bob)).map((r) => `${r.deviceId}@${r.nodeId}`).sort()).toEqual([
      'laptop@edge-1',
      'phone@edge-2',
    ]);

    const own = await phone.client.sendText(alice, 'from my phone');
    await expect.poll(() => uids(laptop), { timeout: DELIVERY_MS }).toEqual([own.messageUid]);
    expect(laptop.received[0]?.seq).toBe(own.seq);
    expect(laptop.received[0]?.from).toBe(bob);

    const incoming = await a.client.sendText(bob, 'to both of your devices');
    await expect
      .poll(() => uids(laptop), { timeout: DELIVERY_MS })
      .toEqual([own.messageUid, incoming.messageUid]);
    await expect.poll(() => uids(phone), { timeout: DELIVERY_MS }).toEqual([incoming.messageUid]);
    expect(uids(a)).toEqual([own.messageUid]);
  });

  it("bob's device logs in again on edge 2: the old connection on edge 1 is KICKED and stays closed", async () => {
    const [alice, bob] = [uniqueUser('alice'), uniqueUser('bob')];
    const old = await device(bob, 'tablet', 0);
    const kicked = new Promise<Error>((resolve) => old.client.once('kicked', resolve));
    const fresh = await device(bob, 'tablet', 1);

    const err = await Promise.race([
      kicked,
      new Promise<null>((r) => setTimeout(() => r(null), DELIVERY_MS)),
    ]);
    expect(err, 'no KICKED notify reached edge 1').not.toBeNull();
    expect(String(err)).toMatch(/KICKED|elsewhere/);
    await expect.poll(() => old.client.state).toBe('closed');
    expect((await c.routes(bob)).map((r) => `${r.deviceId}@${r.nodeId}`)).toEqual(['tablet@edge-2']);

    const a = await device(alice, 'phone', 0);
    const sent = await a.client.sendText(bob, 'after the kick');
    await expect.poll(() => uids(fresh), { timeout: DELIVERY_MS }).toEqual([sent.messageUid]);
    // The kicked client does not come back (a reconnect would kick the new one in turn).
    expect(old.client.state).toBe('closed');
    expect(old.reconnects).toBe(0);
    expect(uids(old)).toEqual([]);
    expect((await c.routes(bob)).map((r) => r.nodeId)).toEqual(['edge-2']);
  });

  it('an edge killed with SIGKILL mid-conversation: its clients move to the other edge and nothing acked is lost or doubled', async () => {
    // Four users, two on each edge, each one device; everyone writes to everyone.
    const users = ['ann', 'ben', 'cat', 'dan'].map((n) => uniqueUser(n));
    const devices = await Promise.all(users.map((u, i) => device(u, 'd1', i < 2 ? 0 : 1)));
    const perSender = 24;
    const killAfter = 8;
    /** uid → [from, to] of every acked message. */
    const acked = new Map<bigint, [string, string]>();
    let sentBeforeKill = 0;
    let killed: Promise<void> | null = null;
    const edge1 = c.cluster.edges[0];
    if (!edge1) throw new Error('no edge 1');

    const traffic = devices.map(async (from, i) => {
      for (let n = 0; n < perSender; n++) {
        const to = users[(i + 1 + (n % 3)) % users.length] as string;
        const ack = await sendUntilAcked(from, to, `${from.userId}#${n}`, 40_000);
        acked.set(ack.messageUid, [from.userId, to]);
        if (++sentBeforeKill === killAfter * users.length && !killed) {
          // protocol.md §6 Heartbeat: a dead edge cleans nothing up; its routes expire on their own.
          edge1.kill('SIGKILL');
          killed = edge1.waitExit(10_000).then((exit) => {
            expect(exit.signal).toBe('SIGKILL');
          });
        }
        await new Promise((r) => setTimeout(r, 15));
      }
    });
    await Promise.all(traffic);
    expect(killed, 'the edge was never killed').not.toBeNull();
    await killed;
    expect(acked.size).toBe(perSender * users.length);

    // The kill hit the conversation: sends on edge 1 failed and were retried with the same messageId.
    expect((devices[0]?.retries ?? 0) + (devices[1]?.retries ?? 0)).toBeGreaterThan(0);
    // The clients of edge 1 reconnected — to edge 2, the only one left.
    for (const t of devices.slice(0, 2)) {
      expect(t.reconnects).toBeGreaterThanOrEqual(1);
      expect(t.client.state).toBe('connected');
      expect((await c.routes(t.userId)).map((r) => r.nodeId)).toEqual(['edge-2']);
    }

    // protocol.md §6 Guarantee: every device ends up with every acked message for its user (push or
    // pull), and the SDK emitted none twice.
    for (const [i, t] of devices.entries()) {
      const want = [...acked].filter(([, [, to]]) => to === users[i]).map(([uid]) => uid);
      await expect
        .poll(() => want.filter((uid) => !uids(t).includes(uid)).length, {
          timeout: 20_000,
          message: `${t.userId} is missing acked messages`,
        })
        .toBe(0);
      expect(new Set(uids(t)).size).toBe(t.received.length);
    }
    // Every inbox, by a full pull: seq 1..head without gaps, each uid once, every acked uid of it present.
    const problems: string[] = [];
    for (const [i, t] of devices.entries()) {
      const mine = [...acked]
        .filter(([, [from, to]]) => from === users[i] || to === users[i])
        .map(([u]) => u);
      const inbox = await pullAll(t.client);
      problems.push(...inboxProblems(t.userId, inbox, mine));
      expect(inbox.head).toBe(mine.length);
    }
    expect(problems).toEqual([]);
  }, 90_000);
});
