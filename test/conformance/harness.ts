/**
 * The conformance scenarios' view of a Target: identities signed with its secret, raw clients on a
 * chosen edge (index modulo the number of edges, so "edge 1" is the second node of a cluster and
 * the only node of the embedded server), and cleanup of every client a scenario opened.
 */
import { signDevToken } from '../../packages/core/src/index.js';
import { Command, Status } from '../../packages/protocol/src/index.js';
import { type AdminClient, adminClient } from '../support/admin.js';
import { connectAs, expectStatus, type Identity, nextPush, sleep } from '../support/im.js';
import { RawClient } from '../support/raw-client.js';
import type { Endpoint, OfflinePushRecord, Target } from './target.js';

const DEFAULT_DELIVERY_MS = 5_000;

export class Harness {
  private clients: RawClient[] = [];

  constructor(readonly target: Target) {
    if (target.endpoints.length === 0) throw new Error('a conformance target needs at least one endpoint');
  }

  /** Number of edge nodes. */
  get edges(): number {
    return this.target.endpoints.length;
  }

  /** How long to wait for a push or kick that must arrive. */
  get deliveryMs(): number {
    return this.target.deliveryTimeoutMs ?? DEFAULT_DELIVERY_MS;
  }

  /** The transport the scenarios use (protocol.md §1): every endpoint of a target has the same. */
  get transport(): 'tcp' | 'ws' {
    return this.endpoint(0).transport ?? 'tcp';
  }

  /**
   * A logged-in client of (userId, deviceId) on an edge over the OTHER transport than the suite's,
   * or null when the target has none (Target.alternate).
   */
  async onlineAlternate(userId: string, deviceId: string, edge = 0) {
    const alt = this.target.alternate;
    if (!alt || alt.length === 0) return null;
    const r = await connectAs(alt[edge % alt.length] as Endpoint, await this.identity(userId, deviceId));
    this.clients.push(r.c);
    return r;
  }

  endpoint(edge = 0): Endpoint {
    return this.target.endpoints[edge % this.edges] as Endpoint;
  }

  async identity(userId: string, deviceId = 'd1'): Promise<Identity> {
    return { userId, deviceId, token: await signDevToken(this.target.jwtSecret, userId, 3600) };
  }

  /** A connected, not logged-in client on an edge. */
  async raw(edge = 0): Promise<RawClient> {
    const ep = this.endpoint(edge);
    const c = await RawClient.open(ep);
    this.clients.push(c);
    return c;
  }

  /** A logged-in client of (userId, deviceId) on an edge. */
  async online(userId: string, deviceId = 'd1', edge = 0) {
    const r = await connectAs(this.endpoint(edge), await this.identity(userId, deviceId));
    this.clients.push(r.c);
    return r;
  }

  /** The next MPS on c, waiting as long as this target needs. */
  push(c: RawClient) {
    return nextPush(c, this.deliveryMs);
  }

  /** How long to wait for something that must NOT arrive (a push that crosses Kafka comes later). */
  get quietMs(): number {
    return Math.min(1_000, this.deliveryMs / 10);
  }

  /**
   * True when no MPS or MN arrived on c by the time a PING round trip (plus a wait) completes. The
   * wait scales with the target: a push that crosses Kafka would arrive later than one in memory.
   */
  async noPush(c: RawClient, waitMs = this.quietMs): Promise<boolean> {
    await sleep(waitMs);
    expectStatus(await c.request({ command: Command.PING }), Status.OK);
    return c.pending((f) => f.command === Command.MPS || f.command === Command.MN).length === 0;
  }

  /** True when the target can show its offline-push records (scenarios that need them skip otherwise). */
  get hasOfflinePushes(): boolean {
    return this.target.offlinePushes !== undefined;
  }

  /**
   * The offline-push records of userId once there are at least `count` (protocol.md §6 Offline
   * push hook), waiting up to the delivery bound; all of them, so a scenario sees any extra one.
   * Throws when the target has none (check hasOfflinePushes) or when they do not come in time.
   */
  async offlinePushes(userId: string, count: number): Promise<OfflinePushRecord[]> {
    const read = this.target.offlinePushes?.bind(this.target);
    if (!read) throw new Error('the target cannot show offline-push records');
    const deadline = Date.now() + this.deliveryMs;
    for (;;) {
      const records = await read(userId);
      if (records.length >= count) return records;
      if (Date.now() > deadline) {
        throw new Error(
          `${records.length} of ${count} offline-push records for ${userId} after ${this.deliveryMs} ms`,
        );
      }
      await sleep(50);
    }
  }

  /** Resolves once userId has no live route left (protocol.md §6 Session), within the delivery bound. */
  async offline(userId: string): Promise<void> {
    const devices = this.target.devices?.bind(this.target);
    if (!devices) throw new Error('the target cannot show presence');
    const deadline = Date.now() + this.deliveryMs;
    for (;;) {
      const live = await devices(userId);
      if (live.length === 0) return;
      if (Date.now() > deadline) throw new Error(`${userId} still has routes ${live.join(', ')}`);
      await sleep(50);
    }
  }

  /** The admin API client, or null when the target has none (scenarios that need it skip). */
  get admin(): AdminClient | null {
    const a = this.target.admin;
    return a ? adminClient(a.url, a.secret) : null;
  }

  /** Closes every client opened since the last call. */
  closeClients(): void {
    for (const c of this.clients.splice(0)) c.close();
  }
}
