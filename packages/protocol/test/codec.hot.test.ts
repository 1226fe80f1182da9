/**
 * The hand-written converters of codec.hot.ts (Message, SendAck, PullResponse) against the generic,
 * schema-driven converter of codec.convert.ts: the same bytes, the same decoded values (keys in the
 * same order), the same errors — for valid and invalid values alike.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Converter, type DecodeLimits, genericConverter, type Plain } from '../src/codec.convert.js';
import { messageConverter, pullResponseConverter, sendAckConverter } from '../src/codec.hot.js';
import type { MessageSchema } from '../src/schema.js';
import * as S from '../src/schema.js';

const U64_MAX = 2n ** 64n - 1n;

type Outcome = { ok: unknown } | { error: string };

function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: fn() };
  } catch (err) {
    return { error: `${(err as Error).constructor.name}: ${(err as Error).message}` };
  }
}

/** Keys of every nested plain object, in order (toStrictEqual ignores key order). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    return Object.entries(v).map(([k, x]) => [k, shape(x)]);
  }
  return typeof v;
}

function encodeWith(schema: MessageSchema<unknown>, c: Converter, v: Plain): Uint8Array {
  return schema.gen.encode(c.toGenerated(v) as never).finish();
}

function sameEncoding(schema: MessageSchema<unknown>, hot: Converter, v: Plain): void {
  const generic = genericConverter(schema);
  const want = outcome(() => Array.from(encodeWith(schema, generic, v)));
  const got = outcome(() => Array.from(encodeWith(schema, hot, v)));
  expect(got).toStrictEqual(want);
}

function sameDecoding(
  schema: MessageSchema<unknown>,
  hot: Converter,
  bytes: Uint8Array,
  limits: DecodeLimits,
) {
  let decoded: Plain;
  try {
    decoded = schema.gen.decode(bytes) as Plain;
  } catch {
    return; // refused by the generated decoder, before any converter runs
  }
  const generic = genericConverter(schema);
  const want = outcome(() => generic.fromGenerated(decoded, limits));
  const got = outcome(() => hot.fromGenerated(decoded, limits));
  expect(got).toStrictEqual(want);
  if ('ok' in want && 'ok' in got) expect(shape(got.ok)).toStrictEqual(shape(want.ok));
}

/** A field value: usually valid, sometimes absent, null or one the field cannot carry. */
function field<T>(valid: fc.Arbitrary<T>, ...invalid: unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 8, arbitrary: valid },
    { weight: 1, arbitrary: fc.constantFrom(undefined, null) },
    { weight: 1, arbitrary: fc.constantFrom(...invalid) },
  );
}

const u32 = field(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })), -1, 0.5, 2 ** 32, '1');
const str = field(fc.oneof(fc.constant(''), fc.string()), 1, 1n);
const u64 = field(fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: U64_MAX })), -1n, 2n ** 64n, 1, '1');
const u64n = field(fc.oneof(fc.constant(0), fc.maxSafeNat()), -1, 2 ** 53, 0.5, 1n);
const i64n = field(fc.oneof(fc.constant(0), fc.maxSafeInteger()), 2 ** 53, -(2 ** 53), 0.5, 1n);

const conversation = field(fc.record({ type: u32, target: str }), 7);
const content = field(
  fc.record({
    contentType: u32,
    searchableContent: str,
    pushContent: str,
    data: field(fc.uint8Array({ maxLength: 40 }), 'x', [1, 2]),
    mentionedType: u32,
    mentionedTargets: field(fc.array(fc.string(), { maxLength: 4 }), ['a', 1], 'a'),
    mediaType: u32,
    msgLength: u32,
    remoteMediaUrl: str,
    localMediaPath: str,
  }),
  'content',
);
const message = fc.record({
  messageId: u64,
  messageContent: content,
  conversation,
  from: str,
  to: str,
  messageUid: u64,
  serverTime: i64n,
  seq: u64n,
}) as fc.Arbitrary<Plain>;
const sendAck = fc.record({ messageUid: u64, serverTime: i64n, seq: u64n }) as fc.Arbitrary<Plain>;
const pullResponse = fc.record({
  messages: field(fc.array(message, { maxLength: 4 }), 5),
  head: u64n,
  hasMore: field(fc.boolean(), 1, 'true'),
}) as fc.Arbitrary<Plain>;

const limits: fc.Arbitrary<DecodeLimits> = fc.record(
  {
    maxStringLength: fc.integer({ min: 0, max: 20 }),
    maxBytesLength: fc.integer({ min: 0, max: 40 }),
    maxRepeated: fc.integer({ min: 0, max: 4 }),
  },
  { requiredKeys: [] },
);

const CASES: [string, MessageSchema<unknown>, Converter, fc.Arbitrary<Plain>][] = [
  ['Message', S.Message as MessageSchema<unknown>, messageConverter, message],
  ['SendAck', S.SendAck as MessageSchema<unknown>, sendAckConverter, sendAck],
  ['PullResponse', S.PullResponse as MessageSchema<unknown>, pullResponseConverter, pullResponse],
];

describe('hand-written converters agree with the schema-driven one', () => {
  for (const [name, schema, hot, values] of CASES) {
    it(`${name}: same bytes or the same error for any value`, () => {
      fc.assert(
        fc.property(values, (v) => sameEncoding(schema, hot, v)),
        { numRuns: 500 },
      );
    });

    it(`${name}: same decoded value or the same error, under any limits`, () => {
      const validBytes = values.map((v) => {
        try {
          return encodeWith(schema, genericConverter(schema), v);
        } catch {
          return new Uint8Array();
        }
      });
      const bytes = fc.oneof(validBytes, fc.uint8Array({ maxLength: 64 }));
      fc.assert(
        fc.property(bytes, limits, (b, l) => sameDecoding(schema, hot, b, l)),
        { numRuns: 500 },
      );
    });
  }

  it('a decoded 64-bit field at the edges of the safe range', () => {
    // seq (u64n) and serverTime (i64n) of Message: 2^53 - 1 passes, 2^53 is refused, -(2^53 - 1) passes.
    for (const [uid, ok] of [
      [2n ** 53n - 1n, true],
      [2n ** 53n, false],
      [U64_MAX, false],
    ] as const) {
      const bytes = S.RecallRequest.gen.encode({ messageUid: uid.toString() } as never).finish();
      const seqField = new Uint8Array([0x40, ...bytes.subarray(1)]); // field 8 (seq), varint
      sameDecoding(S.Message as MessageSchema<unknown>, messageConverter, seqField, {});
      const r = outcome(() => messageConverter.fromGenerated(S.Message.gen.decode(seqField) as Plain, {}));
      expect('ok' in r).toBe(ok);
    }
    const negative = S.SendAck.gen.encode({ serverTime: -(2 ** 53 - 1) } as never).finish();
    sameDecoding(S.SendAck as MessageSchema<unknown>, sendAckConverter, negative, {});
    const min = S.SendAck.gen.encode({ serverTime: '-9007199254740992' } as never).finish();
    const r = outcome(() => sendAckConverter.fromGenerated(S.SendAck.gen.decode(min) as Plain, {}));
    expect(r).toStrictEqual({ error: expect.stringContaining('SendAck.serverTime') });
    sameDecoding(S.SendAck as MessageSchema<unknown>, sendAckConverter, min, {});
  });
});
