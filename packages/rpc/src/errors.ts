import { status as GrpcStatus, Metadata, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { ImError, Status } from '@im/protocol';

/**
 * How a contract error (ImError, protocol.md §3) crosses gRPC: the gRPC code is the nearest
 * standard one (for tools and dashboards); the exact contract status and retry hint travel in
 * trailers, so the client rebuilds the same ImError. A failure without `im-status` happened in
 * the transport, not in the service, and becomes UNAVAILABLE (api.ts: a backend that cannot be
 * reached) — or INTERNAL when retrying cannot help.
 */
export const TRAILER_STATUS = 'im-status';
export const TRAILER_RETRY_AFTER = 'im-retry-after-ms';

const GRPC_CODE: Record<number, GrpcStatus> = {
  [Status.BAD_REQUEST]: GrpcStatus.INVALID_ARGUMENT,
  [Status.UNAUTHORIZED]: GrpcStatus.UNAUTHENTICATED,
  [Status.FORBIDDEN]: GrpcStatus.PERMISSION_DENIED,
  [Status.NOT_FOUND]: GrpcStatus.NOT_FOUND,
  [Status.TOO_MANY_REQUESTS]: GrpcStatus.RESOURCE_EXHAUSTED,
  [Status.UNSUPPORTED]: GrpcStatus.UNIMPLEMENTED,
  [Status.FRAME_TOO_LARGE]: GrpcStatus.OUT_OF_RANGE,
  [Status.EXPIRED]: GrpcStatus.FAILED_PRECONDITION,
  [Status.UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [Status.INTERNAL]: GrpcStatus.INTERNAL,
  [Status.KICKED]: GrpcStatus.ABORTED,
};

/** The nearest standard gRPC code of a contract status (metrics of batched items). */
export function grpcCode(status: number): GrpcStatus {
  return GRPC_CODE[status] ?? GrpcStatus.UNKNOWN;
}

/** gRPC codes that mean "the backend did not answer in time or at all": retrying may work. */
const TRANSIENT = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.CANCELLED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.ABORTED,
  GrpcStatus.UNKNOWN,
]);

/**
 * The status object a handler answers with. Anything but an ImError is an unexpected server error:
 * INTERNAL, with a generic message (the details stay in the service's log, not in the edge's).
 */
export function toGrpcStatus(err: unknown): Partial<StatusObject> & { code: GrpcStatus } {
  const e = err instanceof ImError ? err : new ImError(Status.INTERNAL, 'internal error');
  const metadata = new Metadata();
  metadata.set(TRAILER_STATUS, String(e.status));
  if (e.retryAfterMs > 0) metadata.set(TRAILER_RETRY_AFTER, String(e.retryAfterMs));
  return { code: GRPC_CODE[e.status] ?? GrpcStatus.UNKNOWN, details: e.message, metadata };
}

function firstNumber(md: Metadata | undefined, key: string): number | undefined {
  const v = md?.get(key)[0];
  if (v === undefined) return undefined;
  const n = Number(typeof v === 'string' ? v : v.toString());
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Rebuilds the service's ImError from a failed call, or maps a transport failure (see above). */
export function fromServiceError(err: Partial<ServiceError>, target: string, method: string): ImError {
  const status = firstNumber(err.metadata, TRAILER_STATUS);
  if (status !== undefined) {
    const retryAfterMs = firstNumber(err.metadata, TRAILER_RETRY_AFTER) ?? 0;
    return new ImError(status, err.details ?? err.message ?? '', { retryAfterMs });
  }
  const code = err.code ?? GrpcStatus.UNKNOWN;
  const why = `${method} on ${target}: ${GrpcStatus[code] ?? code} ${err.details ?? ''}`.trim();
  return new ImError(TRANSIENT.has(code) ? Status.UNAVAILABLE : Status.INTERNAL, why, { cause: err });
}
