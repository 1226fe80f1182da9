import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Frame, FrameDecoder, frameToBytes, HEADER_LENGTH, ProtocolError } from '../src/index.js';
import { concat, plain } from './helpers.js';

const MAX = 64;

const arbFrame: fc.Arbitrary<Frame> = fc.record({
  version: fc.constant(1),
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  command: fc.integer({ min: 0, max: 255 }),
  flag: fc.integer({ min: 0, max: 0x3f }), // reserved bits 0
  status: fc.integer({ min: 0, max: 255 }),
  body: fc.uint8Array({ maxLength: MAX }),
});

/** Cuts `bytes` at the given (sorted, deduplicated) positions. */
function cut(bytes: Uint8Array, positions: number[]): Uint8Array[] {
  const points = [...new Set(positions.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(start, p));
    start = p;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

/**
 * Pushes chunks until the decoder throws; asserts the only exception is a ProtocolError, memory
 * stays bounded, and the frames returned are exactly a prefix of the input.
 */
function feed(chunks: Uint8Array[]): { frames: Frame[]; error: ProtocolError | null } {
  const d = new FrameDecoder({ maxBodyLength: MAX });
  const frames: Frame[] = [];
  let error: ProtocolError | null = null;
  for (const c of chunks) {
    try {
      frames.push(...plain(d.push(c)));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      error = err;
      break;
    }
    expect(d.bufferedBytes).toBeLessThanOrEqual(HEADER_LENGTH + MAX);
  }
  const input = concat(chunks);
  const decoded = concat(frames.map(frameToBytes));
  expect(decoded).toEqual(input.subarray(0, decoded.length));
  return { frames, error };
}

describe('FrameDecoder properties', () => {
  it('decodes any valid frames, split anywhere, to the frames encoded', () => {
    fc.assert(
      fc.property(
        fc.array(arbFrame, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (frames, cuts) => {
          const chunks = cut(concat(frames.map(frameToBytes)), cuts);
          const d = new FrameDecoder({ maxBodyLength: MAX });
          expect(plain(chunks.flatMap((c) => d.push(c)))).toEqual(frames);
          expect(d.midFrame).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('arbitrary bytes either decode into frames or throw a ProtocolError', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        feed(chunks);
      }),
      { numRuns: 1000 },
    );
  });

  it('an arbitrary header and a random tail decode or fail with a ProtocolError', () => {
    const header = fc.record({
      length: fc.oneof(fc.integer({ min: 0, max: MAX + 8 }), fc.integer({ min: 0, max: 0xffffffff })),
      version: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 255 })),
      seq: fc.integer({ min: 0, max: 0xffffffff }),
      command: fc.integer({ min: 0, max: 255 }),
      flag: fc.oneof(fc.integer({ min: 0, max: 0x3f }), fc.integer({ min: 0, max: 255 })),
      status: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(
        header,
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (h, tail, cuts) => {
          const head = new Uint8Array(HEADER_LENGTH);
          const view = new DataView(head.buffer);
          view.setUint32(0, h.length);
          view.setUint8(4, h.version);
          view.setUint32(5, h.seq);
          view.setUint8(9, h.command);
          view.setUint8(10, h.flag);
          view.setUint8(11, h.status);
          const { frames, error } = feed(cut(concat([head, tail]), cuts));
          const valid = h.version === 1 && h.flag < 0x40 && h.length <= MAX;
          if (!valid) {
            expect(frames).toEqual([]);
            expect(error?.header).toEqual(h);
          } else if (tail.length >= h.length) {
            expect(frames[0]?.body).toEqual(tail.subarray(0, h.length));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
