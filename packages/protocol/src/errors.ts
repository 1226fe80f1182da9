import type { Frame, FrameHeader } from './frame.js';
import { Status, type StatusCode, statusName } from './status.js';

/** Stable machine codes of the framing errors the decoder raises (protocol.md §1, §2, §3). */
export type ProtocolErrorCode = 'RESERVED_BITS' | 'UNSUPPORTED_VERSION' | 'FRAME_TOO_LARGE';

/**
 * The status to answer a framing error with, or null for "close at once, no response":
 * non-zero reserved bits get no response (protocol.md §2); the others are answered, then closed (§3).
 */
const RESPONSE_STATUS: Record<ProtocolErrorCode, StatusCode | null> = {
  RESERVED_BITS: null,
  UNSUPPORTED_VERSION: Status.UNSUPPORTED,
  FRAME_TOO_LARGE: Status.FRAME_TOO_LARGE,
};

/**
 * A frame header that breaks the framing rules. The connection cannot continue after one (the
 * stream position is lost), so the decoder that threw it is dead. `header` is the offending header,
 * so the answer can echo its seq and command.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  readonly header: FrameHeader;
  /** Status for the response sent before closing; null: close without a response. */
  readonly responseStatus: StatusCode | null;
  /**
   * Frames completed earlier in the same push, before the bad header: they are valid requests
   * and are answered before the error (protocol.md §3: nothing is silently dropped).
   */
  frames: Frame[] = [];

  constructor(code: ProtocolErrorCode, message: string, header: FrameHeader) {
    super(message);
    this.code = code;
    this.header = header;
    this.responseStatus = RESPONSE_STATUS[code];
  }
}

export interface ImErrorOptions {
  /** Sent as ErrorInfo.retryAfterMs (TOO_MANY_REQUESTS, protocol.md §3); 0 when not set. */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * The one error class that carries a contract status (protocol.md §3) through the server: whoever
 * catches it answers with `status` and an ErrorInfo { message, retryAfterMs }.
 */
export class ImError extends Error {
  override readonly name: string = 'ImError';
  readonly status: number;
  readonly retryAfterMs: number;

  constructor(status: number, message: string, opts: ImErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.status = status;
    this.retryAfterMs = opts.retryAfterMs ?? 0;
  }

  override toString(): string {
    return `${this.name} ${statusName(this.status)}: ${this.message}`;
  }
}

export function isImError(e: unknown): e is ImError {
  return e instanceof ImError;
}

/**
 * A body that inflates past the limit (protocol.md §1: the limit applies after decompression too).
 * An ImError with status FRAME_TOO_LARGE, plus the same stable `code` as the decoder's error: the
 * edge answers FRAME_TOO_LARGE and closes (protocol.md §3).
 */
export class BodyTooLargeError extends ImError {
  override readonly name = 'BodyTooLargeError';
  readonly code = 'FRAME_TOO_LARGE' as const;
  readonly limit: number;

  constructor(limit: number, message: string) {
    super(Status.FRAME_TOO_LARGE, message);
    this.limit = limit;
  }
}
