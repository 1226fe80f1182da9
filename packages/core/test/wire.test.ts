/**
 * wireSizeBound (message/wire.ts) is what lets fan-out skip encoding a message to compare its size
 * with pushMaxBodyBytes: it must never be below the real encoded size, for any message and seq.
 */
import { codec } from '@im/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toWireMessage, wireSizeBound } from '../src/message/wire.js';
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

describe('wireSizeBound', () => {
  it('is never below the encoded size of the delivered message', () => {
    fc.assert(
      fc.property(message, fc.maxSafeNat(), (m, seq) => {
        expect(codec.Message.encode(toWireMessage(m, seq)).length).toBeLessThanOrEqual(wireSizeBound(m));
      }),
      { numRuns: 1000 },
    );
  });

  it('settles a typical message (64-byte body) far below the default 16 KiB limit', () => {
    const m: StoredMessage = {
      uid: 1n,
      messageId: 2n,
      from: 'user-000123',
      fromDevice: 'd1',
      to: 'user-000456',
      conversation: { type: 0, target: 'user-000456' },
      content: {
        contentType: 1,
        searchableContent: '',
        pushContent: '',
        data: new Uint8Array(64),
        mentionedType: 0,
        mentionedTargets: [],
        mediaType: 0,
        msgLength: 0,
        remoteMediaUrl: '',
        localMediaPath: '',
      },
      serverTime: Date.now(),
      e2e: false,
    };
    expect(wireSizeBound(m)).toBeLessThan(512);
  });
});
