import { gunzipSync, gzipSync } from 'node:zlib';
import { BodyTooLargeError, ImError } from './errors.js';
import { Status } from './status.js';

/**
 * A response to a gzip request is gzip only when its body is larger than this many bytes
 * (protocol.md §2 leaves the threshold to the implementation; docs/protocol.md states it).
 */
export const GZIP_RESPONSE_THRESHOLD = 1024;

/**
 * Inflates a gzip body, refusing to produce more than `maxLength` bytes (protocol.md §1: the body
 * limit applies after decompression). zlib stops at the limit, so a gzip bomb costs at most
 * `maxLength` bytes of memory. Over the limit: BodyTooLargeError (FRAME_TOO_LARGE, then close);
 * not valid gzip: ImError(BAD_REQUEST).
 */
export function gunzipBody(body: Uint8Array, maxLength: number): Uint8Array {
  let out: Buffer;
  try {
    // maxOutputLength must be >= 1; a 0 limit is enforced by the length check below.
    out = gunzipSync(body, { maxOutputLength: Math.max(1, maxLength) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new BodyTooLargeError(maxLength, `gzip body inflates past the limit of ${maxLength} bytes`);
    }
    throw new ImError(Status.BAD_REQUEST, `gzip body is corrupt: ${(err as Error).message}`, { cause: err });
  }
  if (out.length > maxLength) {
    throw new BodyTooLargeError(maxLength, `gzip body inflates past the limit of ${maxLength} bytes`);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

export function gzipBody(body: Uint8Array): Uint8Array {
  const out = gzipSync(body);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
