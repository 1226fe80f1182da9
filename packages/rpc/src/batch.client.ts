import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { ImError, Status } from '@im/protocol';

/** What every batched item carries for the channel (proto/internal: SendItem, AppendItem). */
export interface BatchItem {
  id: number;
  deadline: number;
}

/** What every batched result carries for the channel (SendResult, AppendResult). */
export interface BatchResult {
  id: number;
  status: number;
  error: string;
  retryAfterMs: number;
}

export interface Batch<Item> {
  items: Item[];
}

export interface Results<Res> {
  results: Res[];
}

/** How a channel reaches its service: a bidirectional stream, or one unary call per batch. */
export interface BatchTransport<Item, Res> {
  /** The rpc's name, for errors and logs. */
  readonly name: string;
  /** A new stream (null once the client is closed). */
  openStream(): ClientDuplexStream<Batch<Item>, Results<Res>> | null;
  /** One batch as one unary call with this deadline. */
  callUnary(batch: Batch<Item>, deadlineMs: number): Promise<Results<Res>>;
  /** The ImError for a failed stream (errors.ts). */
  failure(err: Partial<ServiceError>): ImError;
}

export interface BatchChannelOptions {
  /** Per-item deadline: an item without a result by then is answered UNAVAILABLE. */
  deadlineMs: number;
  /** 'stream' (default): a few long-lived bidirectional streams; 'unary': one call per batch. */
  transport?: 'stream' | 'unary';
  /** Streams (lanes) kept open; items with the same affinity key always take the same one. Default 2. */
  lanes?: number;
  /** Items per batch message; default 512. */
  maxBatch?: number;
  /** Items sent or queued without a result; past it call() is refused with UNAVAILABLE. Default 8192. */
  maxInFlight?: number;
  /** A stream older than this takes no new batches, finishes its items and is ended. Default 5 min. */
  maxStreamAgeMs?: number;
  /**
   * How long the first item of a batch may wait for others (default 0: to the end of the turn).
   * A millisecond turns the few items of one turn into one stream message of many under load:
   * the per-message cost of gRPC and HTTP/2 is per batch, not per item.
   */
  lingerMs?: number;
  /** Told of each batch sent (metrics). */
  onBatch?: (size: number) => void;
}

interface Pending<Item, Res> {
  item: Item;
  resolve(r: Res): void;
  reject(e: unknown): void;
  /** The stream it was written to (null while queued or for unary). */
  stream: ClientDuplexStream<Batch<Item>, Results<Res>> | null;
  timer: BatchTimer | null;
}

interface BatchTimer {
  handle: NodeJS.Timeout;
  remaining: number;
}

interface Lane<Item, Res> {
  stream: ClientDuplexStream<Batch<Item>, Results<Res>> | null;
  openedAt: number;
  /** False while the stream's buffer is full: batches wait in `queue` until 'drain'. */
  writable: boolean;
  queue: Pending<Item, Res>[];
}

/**
 * The client side of a batched hop (edge → message service SendStream, message service → storage
 * AppendStream): call() queues one item and resolves with its own result. Every item queued in one
 * event-loop turn leaves in one batch per lane, at the end of the turn (setImmediate), so a hop
 * costs one stream message per turn instead of one call per item. Each item has its own deadline
 * and its own status: a batch that cannot complete (stream broken, service gone, deadline) answers
 * UNAVAILABLE for each of its items, which is safe to retry (protocol.md §3) — never silence.
 * In-flight work is bounded (maxInFlight); past it callers get UNAVAILABLE at once, and a stream
 * whose buffer is full holds further batches until it drains (HTTP/2 flow control: the service reads
 * at its own pace).
 */
export class BatchChannel<Item extends BatchItem, Res extends BatchResult> {
  private readonly lanes: Lane<Item, Res>[];
  private readonly pending = new Map<number, Pending<Item, Res>>();
  private readonly deadlineMs: number;
  private readonly unary: boolean;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly maxStreamAgeMs: number;
  private readonly lingerMs: number;
  private flushTimer: NodeJS.Timeout | null = null;
  private nextId = 1;
  /** Items queued in this turn: they share one deadline timer, armed at the end of the turn. */
  private turn: Pending<Item, Res>[] = [];
  private flushScheduled = false;
  private closed = false;

  constructor(
    private readonly transport: BatchTransport<Item, Res>,
    private readonly opts: BatchChannelOptions,
  ) {
    if (!(opts.deadlineMs > 0)) throw new RangeError(`deadlineMs must be > 0, got ${opts.deadlineMs}`);
    this.deadlineMs = opts.deadlineMs;
    this.unary = opts.transport === 'unary';
    this.maxBatch = opts.maxBatch ?? 512;
    this.maxInFlight = opts.maxInFlight ?? 8192;
    this.maxStreamAgeMs = opts.maxStreamAgeMs ?? 5 * 60_000;
    this.lingerMs = opts.lingerMs ?? 0;
    const lanes = Math.max(1, opts.lanes ?? 2);
    this.lanes = Array.from({ length: lanes }, () => ({
      stream: null,
      openedAt: 0,
      writable: true,
      queue: [],
    }));
  }

  /** Items sent or queued without a result. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Queues `fields` (id and deadline are set here); resolves with its result, or rejects with its ImError. */
  call(fields: Omit<Item, 'id' | 'deadline'>, affinity = 0): Promise<Res> {
    if (this.closed) return Promise.reject(this.unavailable('client closed'));
    if (this.pending.size >= this.maxInFlight) {
      return Promise.reject(
        new ImError(Status.UNAVAILABLE, `${this.transport.name}: ${this.pending.size} requests in flight`, {
          retryAfterMs: 100,
        }),
      );
    }
    const id = this.takeId();
    const item = { ...fields, id, deadline: Date.now() + this.deadlineMs } as Item;
    return new Promise<Res>((resolve, reject) => {
      const p: Pending<Item, Res> = { item, resolve, reject, stream: null, timer: null };
      this.pending.set(id, p);
      this.turn.push(p);
      (this.lanes[affinity % this.lanes.length] as Lane<Item, Res>).queue.push(p);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        if (this.lingerMs > 0) this.flushTimer = setTimeout(() => this.flush(), this.lingerMs);
        else setImmediate(() => this.flush());
      } else if (this.flushTimer && this.turn.length >= this.maxBatch) {
        // A full batch does not wait out the linger.
        clearTimeout(this.flushTimer);
        this.flushTimer = null;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Fails everything in flight with UNAVAILABLE and ends the streams. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.turn = [];
    for (const lane of this.lanes) {
      lane.queue = [];
      const s = lane.stream;
      lane.stream = null;
      s?.end();
    }
    for (const p of [...this.pending.values()]) this.settle(p, this.unavailable('client closed'));
  }

  private takeId(): number {
    // uint32 on the wire; ids in flight are far fewer than 2^32, so a wrapped id is free again.
    const id = this.nextId;
    this.nextId = id >= 0xffff_ffff ? 1 : id + 1;
    return id;
  }

  private flush(): void {
    if (!this.flushScheduled) return;
    this.flushScheduled = false;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.closed) return;
    if (this.turn.length > 0) {
      // Armed for every item, written or still waiting for a full stream to drain.
      const timer = this.arm(this.turn);
      for (const p of this.turn) p.timer = timer;
      this.turn = [];
    }
    for (const lane of this.lanes) {
      while (lane.queue.length > 0 && (this.unary || lane.writable)) {
        const batch = lane.queue.splice(0, this.maxBatch);
        if (this.unary) this.sendUnary(batch);
        else if (!this.sendStream(lane, batch)) break;
      }
    }
  }

  /** Writes one batch to the lane's stream; false when the stream is full (the rest waits for 'drain'). */
  private sendStream(lane: Lane<Item, Res>, batch: Pending<Item, Res>[]): boolean {
    const stream = this.laneStream(lane);
    if (!stream) {
      for (const p of batch) this.settle(p, this.unavailable('client closed'));
      return true;
    }
    for (const p of batch) p.stream = stream;
    this.opts.onBatch?.(batch.length);
    const more = stream.write({ items: batch.map((p) => p.item) });
    if (!more) {
      lane.writable = false;
      stream.once('drain', () => {
        if (lane.stream !== stream) return;
        lane.writable = true;
        this.flush();
      });
    }
    return more;
  }

  private sendUnary(batch: Pending<Item, Res>[]): void {
    this.opts.onBatch?.(batch.length);
    this.transport.callUnary({ items: batch.map((p) => p.item) }, this.deadlineMs).then(
      (res) => {
        this.deliver(res);
        // Items the service did not answer (it must answer each): their own error, not silence.
        for (const p of batch) {
          if (this.pending.get(p.item.id) === p) this.settle(p, this.unavailable('no result for the item'));
        }
      },
      (err) => {
        for (const p of batch) if (this.pending.get(p.item.id) === p) this.settle(p, err);
      },
    );
  }

  /** The lane's open stream, opening (or rotating to) a new one when needed. */
  private laneStream(lane: Lane<Item, Res>): ClientDuplexStream<Batch<Item>, Results<Res>> | null {
    const now = Date.now();
    if (lane.stream && now - lane.openedAt > this.maxStreamAgeMs) {
      // Rotation: the old stream finishes what it has (the service ends it once its items are
      // answered); new batches go to a fresh one, which may land on another replica.
      const old = lane.stream;
      lane.stream = null;
      old.end();
    }
    if (lane.stream) return lane.stream;
    const stream = this.transport.openStream();
    if (!stream) return null;
    lane.stream = stream;
    lane.openedAt = now;
    lane.writable = true;
    stream.on('data', (res: Results<Res>) => this.deliver(res));
    const broken = (why: ImError) => {
      if (lane.stream === stream) lane.stream = null;
      for (const p of [...this.pending.values()]) if (p.stream === stream) this.settle(p, why);
    };
    stream.on('error', (err: Partial<ServiceError>) => broken(this.transport.failure(err)));
    stream.on('end', () => broken(this.unavailable('stream ended')));
    // grpc-js emits 'status' after 'end'; an OK status with items still open is covered by 'end'.
    return stream;
  }

  private deliver(res: Results<Res>): void {
    for (const r of res.results) {
      const p = this.pending.get(r.id);
      if (!p) continue; // timed out (already answered UNAVAILABLE) or unknown
      if (r.status === Status.OK) this.settle(p, null, r);
      else this.settle(p, new ImError(r.status, r.error, { retryAfterMs: r.retryAfterMs }));
    }
  }

  /** One timer per batch: what is still open at the deadline is answered UNAVAILABLE. */
  private arm(batch: Pending<Item, Res>[]): BatchTimer {
    const timer: BatchTimer = {
      remaining: batch.length,
      handle: setTimeout(() => {
        for (const p of batch) {
          if (this.pending.get(p.item.id) === p) {
            this.settle(p, this.unavailable(`no answer within ${this.deadlineMs} ms`));
          }
        }
      }, this.deadlineMs),
    };
    return timer;
  }

  private settle(p: Pending<Item, Res>, err: unknown, res?: Res): void {
    if (this.pending.get(p.item.id) !== p) return;
    this.pending.delete(p.item.id);
    if (p.timer && --p.timer.remaining === 0) clearTimeout(p.timer.handle);
    if (err) p.reject(err);
    else p.resolve(res as Res);
  }

  private unavailable(why: string): ImError {
    return new ImError(Status.UNAVAILABLE, `${this.transport.name}: ${why}`);
  }
}
