import { describe, expect, it } from 'vitest';
import { BodyTooLargeError, ImError, isImError, ProtocolError, Status } from '../src/index.js';

const header = { length: 5, version: 1, seq: 7, command: 4, flag: 0, status: 0 };

describe('errors (protocol.md §3)', () => {
  it('ImError carries a status, a message and retryAfterMs', () => {
    const e = new ImError(Status.TOO_MANY_REQUESTS, 'slow down', { retryAfterMs: 250 });
    expect(e).toBeInstanceOf(Error);
    expect([e.status, e.message, e.retryAfterMs, e.name]).toEqual([5, 'slow down', 250, 'ImError']);
    expect(new ImError(Status.NOT_FOUND, 'no such group').retryAfterMs).toBe(0);
    expect(String(e)).toBe('ImError TOO_MANY_REQUESTS: slow down');
    const cause = new Error('db down');
    expect(new ImError(Status.UNAVAILABLE, 'try again', { cause }).cause).toBe(cause);
  });

  it('isImError tells ImErrors from other errors', () => {
    expect(isImError(new ImError(Status.INTERNAL, 'x'))).toBe(true);
    expect(isImError(new BodyTooLargeError(10, 'x'))).toBe(true);
    expect(isImError(new Error('x'))).toBe(false);
    expect(isImError({ status: 1, message: 'x' })).toBe(false);
    expect(isImError(undefined)).toBe(false);
  });

  it('ProtocolError has a stable code, the header, and the status to answer with', () => {
    const tooLarge = new ProtocolError('FRAME_TOO_LARGE', 'too big', header);
    expect([tooLarge.code, tooLarge.header, tooLarge.responseStatus]).toEqual([
      'FRAME_TOO_LARGE',
      header,
      Status.FRAME_TOO_LARGE,
    ]);
    expect(new ProtocolError('UNSUPPORTED_VERSION', 'v2', header).responseStatus).toBe(Status.UNSUPPORTED);
    // Reserved bits: close at once, no response (protocol.md §2).
    expect(new ProtocolError('RESERVED_BITS', 'bits', header).responseStatus).toBeNull();
    expect(isImError(tooLarge)).toBe(false);
  });

  it('BodyTooLargeError is an ImError FRAME_TOO_LARGE with the decoder code', () => {
    const e = new BodyTooLargeError(1024, 'inflates too far');
    expect([e.status, e.code, e.limit, e.name]).toEqual([
      Status.FRAME_TOO_LARGE,
      'FRAME_TOO_LARGE',
      1024,
      'BodyTooLargeError',
    ]);
  });
});
