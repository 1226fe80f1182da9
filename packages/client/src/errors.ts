/**
 * Errors the SDK rejects with. One class per non-zero status of protocol.md §3, so callers can
 * `catch (e) { if (e instanceof TooManyRequestsError) ... }`, plus `ConnectionError` for a socket
 * that could not be opened or went away and `RequestTimeoutError` for a response that never came.
 */

import type { ErrorInfo } from '@im/protocol/portable';
import { Status, statusName } from '@im/protocol/portable';

/** A response (or notify) whose status is not OK; `reason` is the server's ErrorInfo.message. */
export class ImStatusError extends Error {
  readonly status: number;
  readonly statusName: string;
  readonly reason: string;
  /** ErrorInfo.retryAfterMs (TOO_MANY_REQUESTS); 0 when the server gave none. */
  readonly retryAfterMs: number;
  /** The command of the request that failed. */
  readonly command: number | undefined;
  /** Set on every error an MS (`ImClient.send`) rejects with: see `withMessageId`. */
  messageId?: bigint;

  constructor(status: number, info: Partial<ErrorInfo> = {}, command?: number) {
    const name = statusName(status);
    const reason = info.message ?? '';
    super(reason ? `${name}: ${reason}` : name);
    this.name = new.target.name;
    this.status = status;
    this.statusName = name;
    this.reason = reason;
    this.retryAfterMs = info.retryAfterMs ?? 0;
    this.command = command;
  }
}

export class BadRequestError extends ImStatusError {}
export class UnauthorizedError extends ImStatusError {}
export class ForbiddenError extends ImStatusError {}
export class NotFoundError extends ImStatusError {}
export class TooManyRequestsError extends ImStatusError {}
export class UnsupportedError extends ImStatusError {}
export class FrameTooLargeError extends ImStatusError {}
export class ExpiredError extends ImStatusError {}
export class UnavailableError extends ImStatusError {}
export class InternalError extends ImStatusError {}
/** protocol.md §6 Session: this device logged in elsewhere; the server closes the connection. */
export class KickedError extends ImStatusError {}

type StatusErrorClass = new (status: number, info?: Partial<ErrorInfo>, command?: number) => ImStatusError;

const BY_STATUS: ReadonlyMap<number, StatusErrorClass> = new Map<number, StatusErrorClass>([
  [Status.BAD_REQUEST, BadRequestError],
  [Status.UNAUTHORIZED, UnauthorizedError],
  [Status.FORBIDDEN, ForbiddenError],
  [Status.NOT_FOUND, NotFoundError],
  [Status.TOO_MANY_REQUESTS, TooManyRequestsError],
  [Status.UNSUPPORTED, UnsupportedError],
  [Status.FRAME_TOO_LARGE, FrameTooLargeError],
  [Status.EXPIRED, ExpiredError],
  [Status.UNAVAILABLE, UnavailableError],
  [Status.INTERNAL, InternalError],
  [Status.KICKED, KickedError],
]);

/** The typed error for a non-zero status; an unknown code gets the base class. */
export function statusError(status: number, info?: Partial<ErrorInfo>, command?: number): ImStatusError {
  const Cls = BY_STATUS.get(status) ?? ImStatusError;
  return new Cls(status, info, command);
}

export type ConnectionErrorCode =
  /** The server refused the TCP connection (nothing listens there). */
  | 'REFUSED'
  /** Connect attempt failed otherwise (DNS, unreachable, TLS handshake, connect timeout). */
  | 'UNREACHABLE'
  /** An open connection closed or broke; requests in flight at that moment get this. */
  | 'CLOSED'
  /** A request was made while the client is not connected (before connect, while reconnecting, after close). */
  | 'NOT_CONNECTED'
  /** The server sent bytes that are not this protocol. */
  | 'PROTOCOL';

export class ConnectionError extends Error {
  readonly code: ConnectionErrorCode;
  /**
   * Set when the failed request was an MS: pass it back as `send({ ..., messageId })` after the
   * client reconnects, so the server's idempotency key (from, deviceId, messageId) dedups a
   * message that was in fact stored (protocol.md §6 Send).
   */
  messageId?: bigint;
  /** "host:port" of the server, when known. */
  readonly endpoint: string | undefined;

  constructor(
    code: ConnectionErrorCode,
    message: string,
    options: { cause?: unknown; endpoint?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConnectionError';
    this.code = code;
    this.endpoint = options.endpoint;
  }
}

/** No response within requestTimeoutMs. The connection may still be up; an MS may still have been stored. */
export class RequestTimeoutError extends Error {
  readonly command: number;
  readonly timeoutMs: number;
  messageId?: bigint;

  constructor(command: number, timeoutMs: number) {
    super(`no response to command ${command} within ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
    this.command = command;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * `err` as the rejection of the MS sent with `messageId`: a copy of it (same class, message, stack
 * and cause) that carries the id. A copy, because a connection that closes rejects every request
 * in flight with one and the same reason: two sends tagging that one object would swap their ids,
 * and a retry with the other message's id is deduplicated into that message — its own is lost.
 * Passing the id back as `send({ ..., messageId })` is always safe: the server's idempotency key
 * (from, deviceId, messageId) stores a message once (protocol.md §6 Send). After a close, a
 * timeout, or a LOGOUT notify (drain, expiry) the message may or may not have been stored.
 */
export function withMessageId<E extends Error>(err: E, messageId: bigint): E & { messageId: bigint } {
  const copy = Object.create(Object.getPrototypeOf(err), Object.getOwnPropertyDescriptors(err)) as E & {
    messageId: bigint;
  };
  copy.messageId = messageId;
  return copy;
}
