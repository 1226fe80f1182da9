/**
 * DecodeLimits (protocol.md §6 Limits and abuse: caps on string, bytes and repeated fields after
 * decoding; protobuf nesting depth) and the codec under arbitrary input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CodecName, codec, ImError, Status } from '../src/index.js';

const limits = { maxStringLength: 10, maxBytesLength: 8, maxRepeated: 2, maxDepth: 6 };

function badRequest(fn: () => unknown, reason: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ImError);
  expect((err as ImError).status).toBe(Status.BAD_REQUEST);
  expect((err as ImError).message).toMatch(reason);
}

/** `depth` nested start-group tags of field 15, then the matching end-group tags. */
function nestedGroups(depth: number): Uint8Array {
  return new Uint8Array([...Array(depth).fill((15 << 3) | 3), ...Array(depth).fill((15 << 3) | 4)]);
}

describe('DecodeLimits', () => {
  it('caps strings, bytes and repeated fields, naming the field', () => {
    badRequest(
      () => codec.LoginRequest.decode(codec.LoginRequest.encode({ userId: 'x'.repeat(11) }), limits),
      /LoginRequest\.userId.*limit is 10/,
    );
    badRequest(
      () => codec.LoginRequest.decode(codec.LoginRequest.encode({ publicKey: new Uint8Array(9) }), limits),
      /publicKey.*9 bytes/,
    );
    const mentions = codec.Message.encode({ messageContent: { mentionedTargets: ['a', 'b', 'c'] } });
    badRequest(() => codec.Message.decode(mentions, limits), /mentionedTargets.*3 entries/);
    const nested = codec.Message.encode({ messageContent: { searchableContent: 'y'.repeat(11) } });
    badRequest(() => codec.Message.decode(nested, limits), /searchableContent/);
    // At the limits: fine.
    expect(
      codec.LoginRequest.decode(
        codec.LoginRequest.encode({ userId: 'x'.repeat(10), publicKey: new Uint8Array(8) }),
        limits,
      ).userId,
    ).toHaveLength(10);
  });

  it('caps protobuf nesting (skipped unknown groups and nested messages) at maxDepth', () => {
    expect(codec.Message.decode(nestedGroups(5), limits).messageId).toBe(0n);
    badRequest(() => codec.Message.decode(nestedGroups(10), limits), /depth/);
    // Without maxDepth the default (100) still applies: deep input is BAD_REQUEST, not a stack overflow.
    badRequest(() => codec.Message.decode(nestedGroups(5000)), /depth/);
    // Message → MessageContent is one level: refused with maxDepth 0, fine with 1.
    const nested = codec.Message.encode({ messageContent: { contentType: 1 } });
    badRequest(() => codec.Message.decode(nested, { maxDepth: 0 }), /depth 1 exceeds the limit of 0/);
    expect(codec.Message.decode(nested, { maxDepth: 1 }).messageContent?.contentType).toBe(1);
  });

  it('any bytes decode or fail with BAD_REQUEST, for every body type, with and without limits', () => {
    const names = Object.keys(codec) as CodecName[];
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.uint8Array({ maxLength: 200 }),
        fc.boolean(),
        (name, bytes, capped) => {
          try {
            (codec[name] as { decode(b: Uint8Array, l?: object): unknown }).decode(
              bytes,
              capped ? limits : undefined,
            );
          } catch (e) {
            expect(e).toBeInstanceOf(ImError);
            expect((e as ImError).status).toBe(Status.BAD_REQUEST);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
