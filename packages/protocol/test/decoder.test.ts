import { describe, expect, it } from 'vitest';
import {
  Command,
  type Frame,
  FrameDecoder,
  frameToBytes,
  HEADER_LENGTH,
  ProtocolError,
  packFlag,
} from '../src/index.js';
import { concat, decodeAll, plain } from './helpers.js';
import { hexToBytes, loadVectors } from './vectors/index.js';

const frame = (seq: number, body: number[] | Uint8Array, over: Partial<Frame> = {}): Frame => ({
  version: 1,
  seq,
  command: Command.MS,
  flag: 0,
  status: 0,
  body: Uint8Array.from(body),
  ...over,
});

const STREAM_FRAMES: Frame[] = [
  frame(1, [], { command: Command.PING }),
  frame(2, [1, 2, 3, 4, 5]),
  frame(
    3,
    Array.from({ length: 40 }, (_, i) => i),
  ),
  frame(4, [], { command: Command.LOGOUT }),
  frame(5, [0xff]),
];
const STREAM = concat(STREAM_FRAMES.map(frameToBytes));

function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

describe('FrameDecoder: streaming (protocol.md §1)', () => {
  it('decodes a stream split at every byte position into the same frames', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      expect(decodeAll([STREAM.subarray(0, cut), STREAM.subarray(cut)])).toEqual(STREAM_FRAMES);
    }
  });

  it('decodes a stream split at every pair of byte positions', () => {
    for (let a = 0; a <= STREAM.length; a += 1) {
      for (let b = a; b <= STREAM.length; b += 3) {
        const chunks = [STREAM.subarray(0, a), STREAM.subarray(a, b), STREAM.subarray(b)];
        expect(decodeAll(chunks)).toEqual(STREAM_FRAMES);
      }
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    expect(decodeAll(Array.from(STREAM, (b) => Uint8Array.of(b)))).toEqual(STREAM_FRAMES);
  });

  it('decodes every shared vector split at every byte', () => {
    for (const v of loadVectors()) {
      const bytes = hexToBytes(v.hex);
      const whole = decodeAll([bytes]);
      expect(whole).toHaveLength(1);
      expect(whole[0]?.body.length).toBe(v.header.length);
      for (let cut = 0; cut <= bytes.length; cut++) {
        expect(decodeAll([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(whole);
      }
    }
  });

  it('returns many frames coalesced in one chunk, in order', () => {
    const many = Array.from({ length: 500 }, (_, i) =>
      frame(
        i + 1,
        Array.from({ length: i % 17 }, () => i & 0xff),
      ),
    );
    expect(decodeAll([concat(many.map(frameToBytes))])).toEqual(many);
  });

  it('hands out views into the chunk when a frame lies within it, a copy only when it spans chunks', () => {
    for (const f of new FrameDecoder().push(STREAM)) {
      expect(f.body.buffer).toBe(STREAM.buffer);
    }
    const bytes = frameToBytes(frame(9, [1, 2, 3, 4]));
    const split = new FrameDecoder();
    expect(split.push(bytes.subarray(0, 14))).toEqual([]);
    const [spanned] = split.push(bytes.subarray(14));
    expect(spanned?.body.buffer).not.toBe(bytes.buffer);
    expect(Array.from(spanned?.body ?? [])).toEqual([1, 2, 3, 4]);
  });

  it('reports midFrame and bufferedBytes while a frame is incomplete', () => {
    const d = new FrameDecoder();
    const bytes = frameToBytes(frame(1, [1, 2, 3, 4, 5, 6]));
    expect([d.midFrame, d.bufferedBytes]).toEqual([false, 0]);
    d.push(bytes.subarray(0, 5));
    expect([d.midFrame, d.bufferedBytes]).toEqual([true, 5]);
    d.push(bytes.subarray(5, 12));
    expect([d.midFrame, d.bufferedBytes]).toEqual([true, 12]);
    d.push(bytes.subarray(12, 15));
    expect([d.midFrame, d.bufferedBytes]).toEqual([true, 15]);
    expect(plain(d.push(bytes.subarray(15)))).toEqual([frame(1, [1, 2, 3, 4, 5, 6])]);
    expect([d.midFrame, d.bufferedBytes]).toEqual([false, 0]);
    expect(d.push(new Uint8Array())).toEqual([]);
  });

  it('accepts a body of exactly the limit', () => {
    const body = new Uint8Array(64).fill(7);
    expect(decodeAll([frameToBytes(frame(1, body))], { maxBodyLength: 64 })).toEqual([frame(1, body)]);
  });
});

describe('FrameDecoder: header checks (protocol.md §1, §2)', () => {
  it('throws FRAME_TOO_LARGE on a header announcing 1 GiB, before any body byte arrives', () => {
    const d = new FrameDecoder();
    const header = frameToBytes(frame(42, [])).slice(0, HEADER_LENGTH);
    new DataView(header.buffer).setUint32(0, 1 << 30);
    d.push(header.subarray(0, 11));
    const err = protocolError(() => d.push(header.subarray(11)));
    expect(err.code).toBe('FRAME_TOO_LARGE');
    expect(err.header).toEqual({
      length: 1 << 30,
      version: 1,
      seq: 42,
      command: Command.MS,
      flag: 0,
      status: 0,
    });
    expect(err.message).toContain(String(1 << 30));
    expect(d.bufferedBytes).toBe(0);
  });

  it('hands back the frames completed before a bad header in the same chunk', () => {
    const bad = frameToBytes(frame(9, [], { version: 2 }));
    const err = protocolError(() => new FrameDecoder().push(concat([STREAM, bad])));
    expect(err.code).toBe('UNSUPPORTED_VERSION');
    expect(plain(err.frames)).toEqual(plain(STREAM_FRAMES));
  });

  it('checks the length against a configured limit', () => {
    const bytes = frameToBytes(frame(1, new Uint8Array(65)));
    expect(protocolError(() => decodeAll([bytes], { maxBodyLength: 64 })).code).toBe('FRAME_TOO_LARGE');
    expect(() => new FrameDecoder({ maxBodyLength: -1 })).toThrow(RangeError);
  });

  it('throws RESERVED_BITS for any non-zero reserved bit, with the header', () => {
    for (const reserved of [1, 2, 3]) {
      const bytes = frameToBytes(frame(3, [1], { flag: packFlag({ reserved, flow: 0 }) }));
      const err = protocolError(() => decodeAll([bytes]));
      expect(err.code).toBe('RESERVED_BITS');
      expect(err.header.seq).toBe(3);
    }
  });

  it('throws UNSUPPORTED_VERSION for a version other than 1', () => {
    for (const version of [0, 2, 255]) {
      const err = protocolError(() => decodeAll([frameToBytes(frame(5, [], { version }))]));
      expect([err.code, err.header.version, err.header.seq]).toEqual(['UNSUPPORTED_VERSION', version, 5]);
    }
  });

  it('checks reserved bits, then version, then length', () => {
    const bad = (over: Partial<Frame>) => frameToBytes(frame(1, [], over)).slice(0, HEADER_LENGTH);
    const all = bad({ version: 2, flag: 0x80 });
    new DataView(all.buffer).setUint32(0, 0xffffffff);
    expect(protocolError(() => decodeAll([all])).code).toBe('RESERVED_BITS');
    const versionAndLength = bad({ version: 2 });
    new DataView(versionAndLength.buffer).setUint32(0, 0xffffffff);
    expect(protocolError(() => decodeAll([versionAndLength])).code).toBe('UNSUPPORTED_VERSION');
  });

  it('is dead after an error: every later push throws the same error', () => {
    const d = new FrameDecoder();
    const good = frameToBytes(frame(1, [1]));
    const err = protocolError(() => d.push(frameToBytes(frame(2, [], { version: 3 }))));
    expect(() => d.push(good)).toThrow(err);
    expect(() => d.push(new Uint8Array())).toThrow(err);
  });

  it('judges a bad header after good frames in the same chunk', () => {
    const d = new FrameDecoder();
    const stream = concat([frameToBytes(frame(1, [1])), frameToBytes(frame(2, [], { flag: 0x40 }))]);
    expect(protocolError(() => d.push(stream)).header.seq).toBe(2);
  });
});
