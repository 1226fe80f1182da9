import { DEFAULT_MAX_BODY_LENGTH, FLAG_RESERVED_MASK, HEADER_LENGTH, PROTOCOL_VERSION } from './constants.js';
import { ProtocolError } from './errors.js';
import { decodeHeader, type Frame, type FrameHeader } from './frame.js';

export interface FrameDecoderOptions {
  /** Largest accepted body in bytes (protocol.md §1, default 1 MiB). */
  maxBodyLength?: number;
}

/** Smallest allocation for a body that spans chunks; grown by doubling up to the announced length. */
const MIN_SPAN_CAPACITY = 4096;
const EMPTY = new Uint8Array(0);

/**
 * Streaming frame decoder (protocol.md §1: a read may carry several frames or a fraction of one).
 * Used by the edge for client frames and by the client SDK for server frames.
 *
 * Only the frame in progress is ever held: bytes of complete frames are handed out as they arrive.
 * A body that lies within one pushed chunk is returned as a VIEW into that chunk (the caller must not
 * reuse the chunk's memory); only a body split across chunks is copied, into a buffer that grows with
 * the bytes actually received (so a header announcing 1 MiB costs nothing until the bytes come).
 *
 * The header is judged as soon as its 12 bytes are present, before any body byte is kept:
 * reserved bits (§2), version (§1), then length against the limit (§1). A violation throws a
 * ProtocolError carrying the header; the decoder is then dead and every later push throws it again.
 * Frames completed earlier in that same push ride on the error (`err.frames`), so the caller can
 * still answer them before it closes (§3).
 */
export class FrameDecoder {
  readonly maxBodyLength: number;
  /** A header split across chunks, made when one first is (12 bytes cost ~200 of heap). */
  #headerBytes: Uint8Array | null = null;
  #headerFill = 0;
  #header: FrameHeader | null = null;
  #body: Uint8Array = EMPTY;
  #bodyFill = 0;
  #error: ProtocolError | null = null;

  constructor(opts: FrameDecoderOptions = {}) {
    const max = opts.maxBodyLength ?? DEFAULT_MAX_BODY_LENGTH;
    if (!Number.isInteger(max) || max < 0 || max > 0xffffffff) {
      throw new RangeError(`maxBodyLength must be an integer 0..${0xffffffff}, got ${max}`);
    }
    this.maxBodyLength = max;
  }

  /** A frame has started but not completed (the edge's frame-completion deadline, protocol.md §6). */
  get midFrame(): boolean {
    return this.#header !== null || this.#headerFill > 0;
  }

  /** Bytes of the unfinished frame held so far; never above HEADER_LENGTH + maxBodyLength. */
  get bufferedBytes(): number {
    return this.#header === null ? this.#headerFill : HEADER_LENGTH + this.#bodyFill;
  }

  /** Feeds received bytes; returns the frames they complete, in order. */
  push(chunk: Uint8Array): Frame[] {
    if (this.#error !== null) throw this.#error;
    const frames: Frame[] = [];
    let pos = 0;
    for (;;) {
      let header = this.#header;
      if (header === null) {
        if (this.#headerFill === 0 && chunk.length - pos >= HEADER_LENGTH) {
          header = decodeHeader(chunk, pos);
          pos += HEADER_LENGTH;
        } else {
          if (pos === chunk.length) return frames;
          const take = Math.min(HEADER_LENGTH - this.#headerFill, chunk.length - pos);
          this.#headerBytes ??= new Uint8Array(HEADER_LENGTH);
          this.#headerBytes.set(chunk.subarray(pos, pos + take), this.#headerFill);
          this.#headerFill += take;
          pos += take;
          if (this.#headerFill < HEADER_LENGTH) return frames;
          header = decodeHeader(this.#headerBytes);
          this.#headerFill = 0;
        }
        try {
          this.#check(header);
        } catch (err) {
          (err as ProtocolError).frames = frames;
          throw err;
        }
        this.#header = header;
      }

      const available = chunk.length - pos;
      if (this.#bodyFill === 0 && available >= header.length) {
        // Whole body inside this chunk: a view, no copy.
        frames.push(toFrame(header, chunk.subarray(pos, pos + header.length)));
        pos += header.length;
        this.#header = null;
        continue;
      }
      const take = Math.min(header.length - this.#bodyFill, available);
      this.#append(chunk.subarray(pos, pos + take), header.length);
      pos += take;
      if (this.#bodyFill < header.length) return frames;
      frames.push(toFrame(header, this.#body));
      this.#header = null;
      this.#body = EMPTY;
      this.#bodyFill = 0;
    }
  }

  #check(h: FrameHeader): void {
    if ((h.flag & FLAG_RESERVED_MASK) !== 0) {
      this.#fail(
        new ProtocolError(
          'RESERVED_BITS',
          `reserved flag bits are set (flag 0x${hex2(h.flag)}); must be 0`,
          h,
        ),
      );
    }
    if (h.version !== PROTOCOL_VERSION) {
      this.#fail(
        new ProtocolError(
          'UNSUPPORTED_VERSION',
          `protocol version ${h.version} is not supported (expected ${PROTOCOL_VERSION})`,
          h,
        ),
      );
    }
    if (h.length > this.maxBodyLength) {
      this.#fail(
        new ProtocolError(
          'FRAME_TOO_LARGE',
          `frame body of ${h.length} bytes exceeds the limit of ${this.maxBodyLength} bytes`,
          h,
        ),
      );
    }
  }

  #fail(err: ProtocolError): never {
    this.#error = err;
    this.#header = null;
    this.#headerFill = 0;
    this.#body = EMPTY;
    this.#bodyFill = 0;
    throw err;
  }

  /** Copies part of a body that spans chunks; capacity doubles, capped at the announced length. */
  #append(part: Uint8Array, length: number): void {
    const needed = this.#bodyFill + part.length;
    if (needed > this.#body.length) {
      const capacity = Math.min(length, Math.max(needed, this.#body.length * 2, MIN_SPAN_CAPACITY));
      const grown = new Uint8Array(capacity);
      grown.set(this.#body.subarray(0, this.#bodyFill));
      this.#body = grown;
    }
    this.#body.set(part, this.#bodyFill);
    this.#bodyFill = needed;
  }
}

function toFrame(h: FrameHeader, body: Uint8Array): Frame {
  return { version: h.version, seq: h.seq, command: h.command, flag: h.flag, status: h.status, body };
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
