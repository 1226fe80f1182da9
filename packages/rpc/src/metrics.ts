import { Gauge, Histogram, type Registry } from 'prom-client';

export const GRPC_SERVER_DURATION = 'im_grpc_server_duration_seconds';

export type ServerDuration = Histogram<'service' | 'method' | 'code'>;

/**
 * Handling time of each internal call, by service (`im.internal.MessageService`), rpc (`Send`)
 * and gRPC code name (`OK`, `NOT_FOUND`, ...). One histogram per registry, shared by every
 * server that reports there.
 */
export function grpcServerDuration(registry: Registry): ServerDuration {
  const existing = registry.getSingleMetric(GRPC_SERVER_DURATION);
  if (existing) return existing as ServerDuration;
  return new Histogram({
    name: GRPC_SERVER_DURATION,
    help: 'Duration of internal gRPC calls handled by this process, in seconds.',
    labelNames: ['service', 'method', 'code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
}

export const GRPC_BATCH_IN_FLIGHT = 'im_grpc_batch_in_flight';

export type BatchInFlight = Gauge<'service' | 'method'>;

/**
 * Items of batched rpcs (SendStream, AppendStream) received and not yet answered, by service and
 * method: the work a service holds for its callers right now (backpressure pauses a stream past
 * its bound). One gauge per registry.
 */
export function grpcBatchInFlight(registry: Registry): BatchInFlight {
  const existing = registry.getSingleMetric(GRPC_BATCH_IN_FLIGHT);
  if (existing) return existing as BatchInFlight;
  return new Gauge({
    name: GRPC_BATCH_IN_FLIGHT,
    help: 'Items of batched internal rpcs received and not yet answered.',
    labelNames: ['service', 'method'],
    registers: [registry],
  });
}

export const GRPC_BATCH_SIZE = 'im_grpc_batch_size';

export type BatchSize = Histogram<'service' | 'method'>;

/** Items per batch received by batched rpcs (SendStream, AppendStream): how well a hop batches. */
export function grpcBatchSize(registry: Registry): BatchSize {
  const existing = registry.getSingleMetric(GRPC_BATCH_SIZE);
  if (existing) return existing as BatchSize;
  return new Histogram({
    name: GRPC_BATCH_SIZE,
    help: 'Items per batch received by batched internal rpcs (one stream message or unary call).',
    labelNames: ['service', 'method'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [registry],
  });
}
