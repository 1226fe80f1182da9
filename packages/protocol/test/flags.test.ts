import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Compression, Encrypt, Flow, packFlag, unpackFlag } from '../src/index.js';

describe('connect flag (protocol.md §2)', () => {
  it('places each part at its bits: 7-6 reserved, 5-4 compression, 3-2 encrypt, 1-0 flow', () => {
    expect(packFlag({ reserved: 3 })).toBe(0b1100_0000);
    expect(packFlag({ compression: Compression.GZIP })).toBe(0b0001_0000);
    expect(packFlag({ encrypt: Encrypt.E2E })).toBe(0b0000_1100);
    expect(packFlag({ flow: Flow.NOTIFY })).toBe(0b0000_0010);
    expect(packFlag({ compression: 1, encrypt: Encrypt.AES, flow: Flow.RESPONSE })).toBe(0x15);
    expect(packFlag({})).toBe(0);
  });

  it('unpacks a byte into its parts', () => {
    expect(unpackFlag(0x15)).toEqual({ reserved: 0, compression: 1, encrypt: 1, flow: 1 });
    expect(unpackFlag(0xff)).toEqual({ reserved: 3, compression: 3, encrypt: 3, flow: 3 });
  });

  it('round-trips every byte', () => {
    for (let b = 0; b < 256; b++) expect(packFlag(unpackFlag(b))).toBe(b);
  });

  it('round-trips any parts', () => {
    const part = fc.integer({ min: 0, max: 3 });
    fc.assert(
      fc.property(fc.record({ reserved: part, compression: part, encrypt: part, flow: part }), (f) => {
        expect(unpackFlag(packFlag(f))).toEqual(f);
      }),
    );
  });

  it('throws RangeError on a part or byte out of range', () => {
    expect(() => packFlag({ flow: 4 })).toThrow(RangeError);
    expect(() => packFlag({ compression: -1 })).toThrow(RangeError);
    expect(() => packFlag({ encrypt: 1.5 })).toThrow(RangeError);
    expect(() => unpackFlag(256)).toThrow(RangeError);
    expect(() => unpackFlag(-1)).toThrow(RangeError);
  });
});
