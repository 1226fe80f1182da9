import {
  FLAG_COMPRESSION_SHIFT,
  FLAG_ENCRYPT_SHIFT,
  FLAG_FLOW_SHIFT,
  FLAG_PART_MASK,
  FLAG_RESERVED_SHIFT,
  MAX_U8,
} from './constants.js';

/** Flag bits 1-0 (protocol.md §2). 3 is unused. */
export const Flow = { REQUEST: 0, RESPONSE: 1, NOTIFY: 2 } as const;
/** Flag bits 5-4 (protocol.md §2). 2 and 3 are reserved: UNSUPPORTED. */
export const Compression = { NONE: 0, GZIP: 1 } as const;
/** Flag bits 3-2 (protocol.md §2). E2E is only valid on MS. */
export const Encrypt = { NONE: 0, AES: 1, RSA: 2, E2E: 3 } as const;

/** The connect flag byte split into its four two-bit parts (each 0..3). */
export interface Flag {
  reserved: number;
  compression: number;
  encrypt: number;
  flow: number;
}

const PARTS = [
  ['reserved', FLAG_RESERVED_SHIFT],
  ['compression', FLAG_COMPRESSION_SHIFT],
  ['encrypt', FLAG_ENCRYPT_SHIFT],
  ['flow', FLAG_FLOW_SHIFT],
] as const;

/** Packs the parts (missing ones are 0) into the flag byte; a part outside 0..3 is a RangeError. */
export function packFlag(f: Partial<Flag>): number {
  let byte = 0;
  for (const [name, shift] of PARTS) {
    const v = f[name] ?? 0;
    if (!Number.isInteger(v) || v < 0 || v > FLAG_PART_MASK) {
      throw new RangeError(`flag ${name} must be an integer 0..${FLAG_PART_MASK}, got ${v}`);
    }
    byte |= v << shift;
  }
  return byte;
}

/** Splits a flag byte into its parts; it does not judge them (the edge decides what is allowed). */
export function unpackFlag(byte: number): Flag {
  if (!Number.isInteger(byte) || byte < 0 || byte > MAX_U8) {
    throw new RangeError(`flag byte must be an integer 0..${MAX_U8}, got ${byte}`);
  }
  return {
    reserved: (byte >>> FLAG_RESERVED_SHIFT) & FLAG_PART_MASK,
    compression: (byte >>> FLAG_COMPRESSION_SHIFT) & FLAG_PART_MASK,
    encrypt: (byte >>> FLAG_ENCRYPT_SHIFT) & FLAG_PART_MASK,
    flow: (byte >>> FLAG_FLOW_SHIFT) & FLAG_PART_MASK,
  };
}
