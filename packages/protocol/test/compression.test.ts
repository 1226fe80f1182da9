import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  BodyTooLargeError,
  DEFAULT_MAX_BODY_LENGTH,
  GZIP_RESPONSE_THRESHOLD,
  gunzipBody,
  gzipBody,
  ImError,
  Status,
} from '../src/index.js';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('gzip bodies (protocol.md §1, §2)', () => {
  it('round-trips a body and returns a plain Uint8Array', () => {
    const body = new TextEncoder().encode('hello '.repeat(500));
    const packed = gzipBody(body);
    expect(packed.length).toBeLessThan(body.length);
    const out = gunzipBody(packed, DEFAULT_MAX_BODY_LENGTH);
    expect(out.constructor).toBe(Uint8Array);
    expect(out).toEqual(body);
    expect(gunzipBody(gzipBody(new Uint8Array()), 10)).toEqual(new Uint8Array());
  });

  it('inflates exactly up to the limit and no further', () => {
    const body = new Uint8Array(1000).fill(1);
    expect(gunzipBody(gzipBody(body), 1000)).toEqual(body);
    const err = caught(() => gunzipBody(gzipBody(body), 999));
    expect(err).toBeInstanceOf(BodyTooLargeError);
    expect(gunzipBody(gzipBody(new Uint8Array()), 0)).toEqual(new Uint8Array());
    expect(caught(() => gunzipBody(gzipBody(new Uint8Array(1)), 0))).toBeInstanceOf(BodyTooLargeError);
  });

  it('stops a gzip bomb (10 MiB of zeros) at the limit with a typed FRAME_TOO_LARGE', () => {
    const bomb = gzipSync(new Uint8Array(10 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(20 * 1024);
    const err = caught(() => gunzipBody(bomb, DEFAULT_MAX_BODY_LENGTH)) as BodyTooLargeError;
    expect(err).toBeInstanceOf(BodyTooLargeError);
    expect(err).toBeInstanceOf(ImError);
    expect([err.code, err.status, err.limit]).toEqual([
      'FRAME_TOO_LARGE',
      Status.FRAME_TOO_LARGE,
      DEFAULT_MAX_BODY_LENGTH,
    ]);
  });

  it('refuses corrupt gzip as BAD_REQUEST', () => {
    const packed = gzipBody(new TextEncoder().encode('some body'));
    for (const bad of [
      new Uint8Array([1, 2, 3, 4]),
      packed.subarray(0, packed.length - 6),
      new Uint8Array([0x1f, 0x8b]),
    ]) {
      const err = caught(() => gunzipBody(bad, 1024)) as ImError;
      expect(err).toBeInstanceOf(ImError);
      expect(err).not.toBeInstanceOf(BodyTooLargeError);
      expect(err.status).toBe(Status.BAD_REQUEST);
    }
  });

  it('documents the response threshold', () => {
    expect(GZIP_RESPONSE_THRESHOLD).toBe(1024);
  });
});
