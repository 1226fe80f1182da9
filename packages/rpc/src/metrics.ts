import { Histogram, type Registry } from 'prom-client';

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
