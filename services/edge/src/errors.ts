/**
 * From a thrown error to the status + ErrorInfo of the response (protocol.md §3: every non-zero
 * status carries an ErrorInfo with a reason). ImError keeps its status; a backend that cannot be
 * reached is UNAVAILABLE (safe to retry); anything else is INTERNAL and logged.
 */
import { ImError, type ImErrorOptions, Status } from '@im/protocol';

/** An ImError after whose response the connection is closed (protocol.md §3's closing cases). */
export class ClosingError extends ImError {
  override readonly name = 'ClosingError';
}

export function closingError(status: number, message: string, opts?: ImErrorOptions): ClosingError {
  return new ClosingError(status, message, opts);
}

export interface ErrorReply {
  status: number;
  message: string;
  retryAfterMs: number;
  /** Close the connection after the response. */
  close: boolean;
  /** Not a client mistake: log it with its stack. */
  unexpected: boolean;
}

/** Socket-level codes of a backend that is down or unreachable (pg, Redis, Kafka, gRPC over TCP). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export function isUnreachable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE_CODES.has(code);
}

export function toErrorReply(e: unknown): ErrorReply {
  if (e instanceof ImError) {
    return {
      status: e.status,
      message: e.message,
      retryAfterMs: e.retryAfterMs,
      close: e instanceof ClosingError || e.status === Status.FRAME_TOO_LARGE,
      unexpected: e.status === Status.INTERNAL,
    };
  }
  if (isUnreachable(e)) {
    return {
      status: Status.UNAVAILABLE,
      message: 'a backend is unavailable; retry the same request',
      retryAfterMs: 0,
      close: false,
      unexpected: true,
    };
  }
  return {
    status: Status.INTERNAL,
    message: 'internal server error',
    retryAfterMs: 0,
    close: false,
    unexpected: true,
  };
}
