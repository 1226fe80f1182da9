/**
 * The fan-out encodes a delivered message once (encodeForDelivery, without seq) and each
 * recipient's MPS body is those bytes plus its seq (withSeq): that must be byte for byte the
 * canonical encoding of the message with that seq, for any message and seq.
 */
import { codec, seqField, seqFieldSize, withSeq } from '@im/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeForDelivery, toWireMessage } from '../src/message/wire.js';
import type { StoredMessage } from '../src/ports.js';

const U64_MAX = 2n ** 64n - 1n;
const u32 = fc.integer({ min: 0, max: 0xffffffff });
// Strings of any code points (4-byte UTF-8 ones included) and lone surrogates (3 bytes once encoded).
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
);

const message: fc.Arbitrary<StoredMessage> = fc.record({
  uid: fc.bigInt({ min: 0n, max: U64_MAX }),
  messageId: fc.bigInt({ min: 0n, max: U64_MAX }),
  from: text,
  fromDevice: text,
  to: text,
  conversation: fc.record({ type: u32, target: text }),
  content: fc.record({
    contentType: u32,
    searchableContent: text,
    pushContent: text,
    data: fc.uint8Array({ maxLength: 300 }),
    mentionedType: u32,
    mentionedTargets: fc.array(text, { maxLength: 5 }),
    mediaType: u32,
    msgLength: u32,
    remoteMediaUrl: text,
    localMediaPath: text,
  }),
  serverTime: fc.maxSafeInteger(),
  e2e: fc.boolean(),
});

describe('encodeForDelivery + withSeq', () => {
  it('is the canonical encoding of the delivered message with that seq', () => {
    fc.assert(
      fc.property(message, fc.maxSafeNat(), (m, seq) => {
        const once = encodeForDelivery(m);
        expect(withSeq(once.bytes, seq)).toEqual(codec.Message.encode(toWireMessage(m, seq)));
        expect(seqField(seq).length).toBe(seqFieldSize(seq));
        expect(once).toMatchObject({
          e2e: m.e2e,
          from: m.from,
          fromDevice: m.fromDevice,
          serverTime: m.serverTime,
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('seq 0 (transient) adds nothing; a bad seq is refused', () => {
    const bytes = new Uint8Array([8, 1]);
    expect(withSeq(bytes, 0)).toBe(bytes);
    expect(() => seqField(-1)).toThrow(RangeError);
    expect(() => seqField(2 ** 53)).toThrow(RangeError);
  });
});
