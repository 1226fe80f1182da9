import type { ServerDuplexStream } from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ImError, isImError, Status } from '@im/protocol';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Batch, BatchItem, BatchResult, Results } from './batch.client.js';
import { grpcCode } from './errors.js';
import { grpcBatchInFlight, grpcBatchSize, grpcServerDuration, type ServerDuration } from './metrics.js';

/** The answer to one item: its payload fields (ack, seqs, ...) besides id and status. */
export type ItemHandler<Item, Res> = (item: Item) => Promise<Omit<Res, keyof BatchResult>>;

export interface BatchServeOptions {
  /** The rpc, for logs and metrics: its service (`im.internal.MessageService`) and method (`SendStream`). */
  service: string;
  method: string;
  logger?: Logger;
  /** Where each item's handling time is recorded (im_grpc_server_duration_seconds, per item). */
  registry?: Registry;
  /** Items of one stream being handled; past it the stream is paused (flow control). Default 4096. */
  maxInFlight?: number;
  /** Told of each batch received (metrics). */
  onBatch?: (size: number) => void;
}

/**
 * The server side of a batched hop (batch.client.ts). Every item of a batch is started in the same
 * turn, so what they do next joins up again (the message service's appends of one SendBatch leave
 * in one AppendBatch; the storage service's appends of one AppendBatch commit in one transaction).
 * Each item is answered with its own status. An item whose deadline passed before it was started is
 * answered UNAVAILABLE without being handled: its sender has already given up on it.
 */
export function batchStreamHandler<Item extends BatchItem, Res extends BatchResult>(
  handle: ItemHandler<Item, Res>,
  opts: BatchServeOptions,
): (call: ServerDuplexStream<Batch<Item>, Results<Res>>) => void {
  const maxInFlight = opts.maxInFlight ?? 4096;
  const duration = opts.registry ? grpcServerDuration(opts.registry) : undefined;
  const gauge = opts.registry ? grpcBatchInFlight(opts.registry) : undefined;
  const sizes = opts.registry ? grpcBatchSize(opts.registry) : undefined;
  const labels = { service: opts.service, method: opts.method };
  return (call) => {
    let inFlight = 0;
    let paused = false;
    let ended = false;
    let out: Res[] = [];
    let flushScheduled = false;
    const finishIfDone = () => {
      if (ended && inFlight === 0 && out.length === 0) call.end();
    };
    const flush = () => {
      flushScheduled = false;
      if (out.length > 0 && !call.cancelled && call.writable) call.write({ results: out });
      out = [];
      finishIfDone();
    };
    const answer = (r: Res) => {
      inFlight--;
      gauge?.dec(labels);
      out.push(r);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
      if (paused && inFlight < maxInFlight / 2) {
        paused = false;
        call.resume();
      }
    };
    call.on('data', (batch: Batch<Item>) => {
      opts.onBatch?.(batch.items.length);
      sizes?.observe(labels, batch.items.length);
      for (const item of batch.items) {
        inFlight++;
        gauge?.inc(labels);
        void runItem(item, handle, opts, duration).then(answer);
      }
      if (inFlight >= maxInFlight && !paused) {
        paused = true;
        call.pause();
      }
    });
    // The client half-closed (stream rotation): answer what is open, then end.
    call.on('end', () => {
      ended = true;
      finishIfDone();
    });
    call.on('error', () => {
      ended = true;
    });
  };
}

/** The same batches as unary calls (IM_SEND_TRANSPORT=unary). */
export function batchUnaryHandler<Item extends BatchItem, Res extends BatchResult>(
  handle: ItemHandler<Item, Res>,
  opts: BatchServeOptions,
): (batch: Batch<Item>) => Promise<Results<Res>> {
  const duration = opts.registry ? grpcServerDuration(opts.registry) : undefined;
  const sizes = opts.registry ? grpcBatchSize(opts.registry) : undefined;
  return async (batch) => {
    opts.onBatch?.(batch.items.length);
    sizes?.observe({ service: opts.service, method: opts.method }, batch.items.length);
    return { results: await Promise.all(batch.items.map((item) => runItem(item, handle, opts, duration))) };
  };
}

async function runItem<Item extends BatchItem, Res extends BatchResult>(
  item: Item,
  handle: ItemHandler<Item, Res>,
  opts: BatchServeOptions,
  duration: ServerDuration | undefined,
): Promise<Res> {
  const end = duration?.startTimer({ service: opts.service, method: opts.method });
  const base = { id: item.id, status: Status.OK as number, error: '', retryAfterMs: 0 };
  try {
    if (item.deadline > 0 && Date.now() > item.deadline) {
      throw new ImError(Status.UNAVAILABLE, `${opts.method}: the deadline passed before it was started`);
    }
    const res = { ...(await handle(item)), ...base } as Res;
    end?.({ code: 'OK' });
    return res;
  } catch (err) {
    const e = isImError(err) ? err : new ImError(Status.INTERNAL, 'internal error');
    if (!isImError(err)) opts.logger?.error({ err, rpc: opts.method }, 'batched item failed');
    end?.({ code: GrpcStatus[grpcCode(e.status)] });
    return { id: item.id, status: e.status, error: e.message, retryAfterMs: e.retryAfterMs } as Res;
  }
}
