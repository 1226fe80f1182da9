/**
 * protocol.md §6 Guarantee: a device that is online when a message is acked, and stays online,
 * learns of it without reconnecting — by MPS, or by MN when the push cannot come: the route store
 * lost its routes (FLUSHALL, failover), the bus was down longer than the fan-out retries, the
 * message service died with fan-out still queued.
 *
 * Every half route-refresh period the edge reads the inbox heads of its logged-in users in a few
 * batched calls and compares each with what the connection was told (Connection.told: LOGIN head,
 * SendAck seq, MPS seq, MN head, PullResponse head). A connection still behind a head seen ONE
 * ROUND EARLIER gets MN { head }: a message merely in flight is pushed before the next round and
 * costs nothing, and one that was never pushed reaches its device within one route refresh period
 * (IM_ROUTE_REFRESH_MS) of the backends answering again (docs/protocol.md §8.6).
 */
import { Command, codec, Encrypt, Status } from '@im/protocol';
import type { Connection } from './connection.js';
import type { EdgeContext } from './context.js';

/** Users per heads() call. */
const BATCH = 1000;

export class HeadSync {
  /** A connection found behind at the last round, with the head it was behind. */
  private behind = new Map<Connection, number>();
  private running = false;

  constructor(private readonly ctx: EdgeContext) {}

  /** One round; resolves with the number of MN sent. A failed heads() call skips its users this round. */
  async round(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const conns = [...this.ctx.registry.all()].filter((c) => c.ready && !c.closing);
      const byUser = new Map<string, Connection[]>();
      for (const c of conns) {
        const list = byUser.get(c.userId);
        if (list) list.push(c);
        else byUser.set(c.userId, [c]);
      }
      const users = [...byUser.keys()];
      const previous = this.behind;
      const next = new Map<Connection, number>();
      let sent = 0;
      for (let i = 0; i < users.length; i += BATCH) {
        const chunk = users.slice(i, i + BATCH);
        let heads: Map<string, number>;
        try {
          heads = await this.ctx.message.heads(chunk);
        } catch (err) {
          this.ctx.logger.warn({ err: String(err), users: chunk.length }, 'head sync: heads unavailable');
          // Keep what was known: these connections are judged again next round.
          for (const u of chunk) for (const c of byUser.get(u) ?? []) carry(previous, next, c);
          continue;
        }
        for (const u of chunk) {
          const head = heads.get(u) ?? 0;
          for (const c of byUser.get(u) ?? []) {
            if (c.closing || head <= c.toldUpTo) continue;
            const seen = previous.get(c);
            if (seen !== undefined && c.toldUpTo < seen) {
              c.sendNotifies([
                {
                  command: Command.MN,
                  status: Status.OK,
                  encrypt: Encrypt.NONE,
                  body: codec.Notify.encode({ head }),
                  seq: head,
                },
              ]);
              sent++;
            } else {
              next.set(c, head);
            }
          }
        }
      }
      this.behind = next;
      if (sent > 0) {
        this.ctx.metrics.headSyncNotified(sent);
        this.ctx.logger.info({ notified: sent }, 'head sync: MN sent to connections a push never reached');
      }
      return sent;
    } finally {
      this.running = false;
    }
  }
}

function carry(from: Map<Connection, number>, to: Map<Connection, number>, c: Connection): void {
  const seen = from.get(c);
  if (seen !== undefined) to.set(c, seen);
}
