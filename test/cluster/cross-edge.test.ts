/**
 * Issue 3 item 8, the cluster's own scenarios (protocol.md §6 Session, Delivery, Guarantee): users on
 * different edge nodes exchange messages through Kafka, a second device on the other edge gets the
 * copy, a second login on another edge kicks the first, and an edge killed with SIGKILL
 * mid-conversation loses nothing that was acked. One cluster for the file (2 edges, the services as
 * OS processes, the test Redis / Kafka / PostgreSQL); the SIGKILL scenario runs last.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { messageText } from '../../packages/client/src/index.js';
import { sleep, uniqueUser } from '../support/im.js';
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

  /**
   * Four users, two on each edge, one device each, everyone writing to everyone; `stop` hits the
   * victim edge (index) once a third of the traffic is acked. Afterwards the victim's clients are on
   * the other edge, and protocol.md §6 Guarantee holds for every device and every inbox.
   */
  async function conversationSurvives(victim: number, stop: () => Promise<void>): Promise<void> {
    const survivor = c.cluster.edges[1 - victim];
    if (!survivor) throw new Error('needs two edges');
    const users = ['ann', 'ben', 'cat', 'dan'].map((n) => uniqueUser(n));
    const devices = await Promise.all(users.map((u, i) => device(u, 'd1', i < 2 ? victim : 1 - victim)));
    const onVictim = devices.slice(0, 2);
    const perSender = 24;
    /** uid → [from, to] of every acked message. */
    const acked = new Map<bigint, [string, string]>();
    let stopped: Promise<void> | null = null;

    const traffic = devices.map(async (from, i) => {
      for (let n = 0; n < perSender; n++) {
        const to = users[(i + 1 + (n % 3)) % users.length] as string;
        const ack = await sendUntilAcked(from, to, `${from.userId}#${n}`, 40_000);
        acked.set(ack.messageUid, [from.userId, to]);
        if (acked.size >= (perSender * users.length) / 3 && !stopped) stopped = stop();
        await sleep(15);
      }
    });
    await Promise.all(traffic);
    expect(stopped, 'the edge was never stopped').not.toBeNull();
    await stopped;
    expect(acked.size).toBe(perSender * users.length);

    // The victim's clients reconnected — to the only edge left.
    for (const t of onVictim) {
      expect(t.reconnects).toBeGreaterThanOrEqual(1);
      expect(t.client.state).toBe('connected');
      expect((await c.routes(t.userId)).map((r) => r.nodeId)).toEqual([survivor.nodeId]);
    }

    // Every device ends up with every acked message for its user (push or pull), none twice.
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
    // Every inbox, by a full pull: seq 1..head without gaps, each uid once, every acked uid of it
    // present, and nothing else (head = the messages it took part in: a resend stored twice shows).
    const problems: string[] = [];
    for (const [i, t] of devices.entries()) {
      const mine = [...acked]
        .filter(([, [from, to]]) => from === users[i] || to === users[i])
        .map(([u]) => u);
      const inbox = await pullAll(t.client);
      problems.push(...inboxProblems(t.userId, inbox, mine));
      if (inbox.head !== mine.length)
        problems.push(`${t.userId}: head ${inbox.head}, took part in ${mine.length}`);
    }
    expect(problems).toEqual([]);
    for (const t of devices) await t.client.close();
  }

  it('an edge drained with SIGTERM mid-conversation: it exits cleanly, its clients move over, nothing acked is lost', async () => {
    const edge2 = c.cluster.edges[1];
    if (!edge2) throw new Error('no edge 2');
    await conversationSurvives(1, async () => {
      // protocol.md §6 Shutdown: stop accepting, close connections gradually, exit.
      edge2.kill('SIGTERM');
      const exit = await edge2.waitExit(15_000);
      expect(exit).toEqual({ code: 0, signal: null });
    });
    // Back for the next scenario (its consumer left its group cleanly, so it rejoins at once).
    await edge2.start();
  }, 90_000);

  it('an edge killed with SIGKILL mid-conversation: its clients move to the other edge and nothing acked is lost or doubled', async () => {
    const edge1 = c.cluster.edges[0];
    if (!edge1) throw new Error('no edge 1');
    const retriesBefore = clients.reduce((n, t) => n + t.retries, 0);
    await conversationSurvives(0, async () => {
      // protocol.md §6 Heartbeat: a dead edge cleans nothing up; its routes expire on their own.
      edge1.kill('SIGKILL');
      expect((await edge1.waitExit(10_000)).signal).toBe('SIGKILL');
    });
    // The kill hit the conversation: sends on edge 1 failed and were retried with the same messageId.
    expect(clients.reduce((n, t) => n + t.retries, 0)).toBeGreaterThan(retriesBefore);
  }, 90_000);
});
