import type { Delivery, DeliveryBus, OfflinePush, Subscription } from '../ports.js';

export interface MemoryBusOptions {
  /** Offline-push records kept in `offlinePushes` (oldest dropped first); default 10 000. */
  keepOfflinePushes?: number;
  /** Called with every published offline-push batch (tests, or an embedded push bridge). */
  onOfflinePush?: (records: OfflinePush[]) => void;
  /** A subscriber's handler threw: the batch is not retried (like an edge that lost its connections). */
  onHandlerError?: (err: unknown, nodeId: string) => void;
}

type Handler = (batch: Delivery[]) => Promise<void>;

/** One subscriber: its own FIFO of batches and a single drain loop, so a node sees publish order. */
class NodeQueue {
  private readonly batches: Delivery[][] = [];
  private draining = false;
  closed = false;

  constructor(
    readonly nodeId: string,
    private readonly handler: Handler,
    private readonly onError: (err: unknown, nodeId: string) => void,
  ) {}

  push(batch: Delivery[]): void {
    if (this.closed) return;
    this.batches.push(batch);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      // Hand over everything queued so far as one batch: the edge batches its socket writes too.
      while (this.batches.length > 0 && !this.closed) {
        const batch =
          this.batches.length === 1 ? (this.batches.pop() as Delivery[]) : this.batches.splice(0).flat();
        try {
          await this.handler(batch);
        } catch (err) {
          this.onError(err, this.nodeId);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

/**
 * DeliveryBus in one process (embedded mode, tests). Deliveries go only to subscribers of their
 * nodeId, in publish order; one published to a node nobody subscribed to is dropped, like a
 * message for an edge that is gone (its clients pull on reconnect, protocol.md §6 Guarantee).
 */
export class MemoryBus implements DeliveryBus {
  /** Offline-push records published so far (newest last), bounded by keepOfflinePushes. */
  readonly offlinePushes: OfflinePush[] = [];
  private readonly nodes = new Map<string, Set<NodeQueue>>();
  private readonly keep: number;
  private readonly onOfflinePush: ((records: OfflinePush[]) => void) | undefined;
  private readonly onHandlerError: (err: unknown, nodeId: string) => void;
  private closed = false;

  constructor(opts: MemoryBusOptions = {}) {
    this.keep = opts.keepOfflinePushes ?? 10_000;
    this.onOfflinePush = opts.onOfflinePush;
    this.onHandlerError = opts.onHandlerError ?? (() => {});
  }

  async publish(deliveries: Delivery[]): Promise<void> {
    this.assertOpen();
    // One destination (always so in embedded mode): the batch as it is, no regrouping.
    const first = deliveries[0]?.nodeId;
    if (first !== undefined && deliveries.every((d) => d.nodeId === first)) {
      for (const q of this.nodes.get(first) ?? []) q.push(deliveries);
      return;
    }
    const byNode = new Map<string, Delivery[]>();
    for (const d of deliveries) {
      let list = byNode.get(d.nodeId);
      if (!list) {
        list = [];
        byNode.set(d.nodeId, list);
      }
      list.push(d);
    }
    for (const [nodeId, batch] of byNode) {
      for (const q of this.nodes.get(nodeId) ?? []) q.push(batch);
    }
  }

  async subscribe(nodeId: string, handler: Handler): Promise<Subscription> {
    this.assertOpen();
    const q = new NodeQueue(nodeId, handler, this.onHandlerError);
    let set = this.nodes.get(nodeId);
    if (!set) {
      set = new Set();
      this.nodes.set(nodeId, set);
    }
    set.add(q);
    return {
      close: async () => {
        q.closed = true;
        const s = this.nodes.get(nodeId);
        s?.delete(q);
        if (s?.size === 0) this.nodes.delete(nodeId);
      },
    };
  }

  async publishOfflinePush(records: OfflinePush[]): Promise<void> {
    this.assertOpen();
    if (records.length === 0) return;
    this.offlinePushes.push(...records);
    if (this.offlinePushes.length > this.keep)
      this.offlinePushes.splice(0, this.offlinePushes.length - this.keep);
    this.onOfflinePush?.(records);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.nodes.values()) for (const q of set) q.closed = true;
    this.nodes.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryBus is closed');
  }
}
