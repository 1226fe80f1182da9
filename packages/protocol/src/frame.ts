import {
  HEADER_LENGTH,
  MAX_BODY_LENGTH_FIELD,
  MAX_SEQ,
  MAX_U8,
  OFFSET_COMMAND,
  OFFSET_FLAG,
  OFFSET_LENGTH,
  OFFSET_SEQ,
  OFFSET_STATUS,
  OFFSET_VERSION,
  PROTOCOL_VERSION,
} from './constants.js';

/** The 12-byte header as numbers (protocol.md §1); `length` is the body length, header excluded. */
export interface FrameHeader {
  length: number;
  version: number;
  seq: number;
  command: number;
  flag: number;
  status: number;
}

/** A complete frame; `body` is the bytes as they travelled (still compressed/encrypted if the flag says so). */
export interface Frame {
  version: number;
  seq: number;
  command: number;
  flag: number;
  status: number;
  body: Uint8Array;
}

/** What encodeHeader needs; `version` defaults to PROTOCOL_VERSION. */
export interface HeaderInput {
  version?: number;
  seq: number;
  command: number;
  flag: number;
  status: number;
  bodyLength: number;
}

/** What encodeFrame needs; `version` defaults to PROTOCOL_VERSION. */
export type FrameInput = Omit<Frame, 'version'> & { version?: number };

/** Reads the header at `offset`; big-endian (protocol.md §1). It does not validate: FrameDecoder does. */
export function decodeHeader(bytes: Uint8Array, offset = 0): FrameHeader {
  if (offset < 0 || bytes.length - offset < HEADER_LENGTH) {
    throw new RangeError(`a frame header needs ${HEADER_LENGTH} bytes, got ${bytes.length - offset}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, HEADER_LENGTH);
  return {
    length: view.getUint32(OFFSET_LENGTH),
    version: view.getUint8(OFFSET_VERSION),
    seq: view.getUint32(OFFSET_SEQ),
    command: view.getUint8(OFFSET_COMMAND),
    flag: view.getUint8(OFFSET_FLAG),
    status: view.getUint8(OFFSET_STATUS),
  };
}

function checkRange(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`frame ${name} must be an integer 0..${max}, got ${v}`);
  }
}

/** Writes a 12-byte header; every field is range-checked (DataView would wrap silently). */
export function encodeHeader(h: HeaderInput): Uint8Array {
  const version = h.version ?? PROTOCOL_VERSION;
  checkRange('version', version, MAX_U8);
  checkRange('seq', h.seq, MAX_SEQ);
  checkRange('command', h.command, MAX_U8);
  checkRange('flag', h.flag, MAX_U8);
  checkRange('status', h.status, MAX_U8);
  checkRange('body length', h.bodyLength, MAX_BODY_LENGTH_FIELD);
  // Byte by byte, not through a DataView (one per frame written would cost more than the header).
  // Values are range-checked above.
  const out = headerSpace();
  putUint32(out, OFFSET_LENGTH, h.bodyLength);
  out[OFFSET_VERSION] = version;
  putUint32(out, OFFSET_SEQ, h.seq);
  out[OFFSET_COMMAND] = h.command;
  out[OFFSET_FLAG] = h.flag;
  out[OFFSET_STATUS] = h.status;
  return out;
}

/** Headers per slab: 8 KiB, as a pooled Buffer of Node. */
const SLAB_HEADERS = 682;
let slab = new Uint8Array(0);
let slabUsed = 0;

/**
 * 12 fresh bytes cut from a shared slab. A small typed array of its own is cheap to make but costly
 * the first time its `.buffer` is read — which a socket write does for every chunk — so headers
 * share slabs the way Node's Buffer pool does. Each header is its own range, never handed out twice.
 */
function headerSpace(): Uint8Array {
  if (slabUsed + HEADER_LENGTH > slab.length) {
    slab = new Uint8Array(new ArrayBuffer(SLAB_HEADERS * HEADER_LENGTH));
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + HEADER_LENGTH);
  slabUsed += HEADER_LENGTH;
  return out;
}

/** Big-endian (protocol.md §1). */
function putUint32(out: Uint8Array, offset: number, v: number): void {
  out[offset] = v >>> 24;
  out[offset + 1] = (v >>> 16) & 0xff;
  out[offset + 2] = (v >>> 8) & 0xff;
  out[offset + 3] = v & 0xff;
}

/**
 * Header and body kept apart: a socket writes both inside cork()/uncork() (or writev), so a large
 * body is never copied just to prepend 12 bytes (STYLE.md, as ws does).
 */
export function encodeFrame(f: FrameInput): [header: Uint8Array, body: Uint8Array] {
  const header = encodeHeader({
    version: f.version,
    seq: f.seq,
    command: f.command,
    flag: f.flag,
    status: f.status,
    bodyLength: f.body.length,
  });
  return [header, f.body];
}

/** One contiguous copy of the frame: for tests and vectors only, never on the hot path. */
export function frameToBytes(f: FrameInput): Uint8Array {
  const [header, body] = encodeFrame(f);
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}
