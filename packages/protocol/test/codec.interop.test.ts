/**
 * The generated codecs (src/gen, scripts/gen-proto.mjs) against protobufjs's reflection codec built
 * from the same .proto files: the same bytes both ways, for the public bodies and for the cluster's
 * internal messages (packed repeated numbers, fields kept encoded). An independent implementation
 * of protobuf is the judge of wire compatibility.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { codec } from '../src/index.js';
import { AppendResult, DeliveryBatch, SendBatch } from '../src/internal.js';

const protoDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'proto');
const googleDir = join(dirname(fileURLToPath(import.meta.resolve('protobufjs/package.json'))));
const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  if (target.startsWith('google/')) return join(googleDir, target);
  if (target === 'im.proto') return join(protoDir, 'im.proto');
  if (!target.includes('/')) return join(protoDir, 'internal', target);
  return protobuf.util.path.resolve(origin, target);
};
root.loadSync(['im.proto', 'message.proto', 'storage.proto', 'delivery.proto'], { keepCase: true });
root.resolveAll();
const ref = (name: string) => root.lookupType(name);

const U64_MAX = 2n ** 64n - 1n;
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const str = fc.string({ unit: 'grapheme', maxLength: 60 });
const content = fc.record({
  contentType: u32,
  searchableContent: str,
  pushContent: fc.string({ maxLength: 80 }),
  data: fc.uint8Array({ maxLength: 300 }),
  mentionedType: u32,
  mentionedTargets: fc.array(str, { maxLength: 4 }),
  mediaType: u32,
  msgLength: u32,
  remoteMediaUrl: str,
  localMediaPath: str,
});
const message = fc.record(
  {
    messageId: fc.bigInt({ min: 0n, max: U64_MAX }),
    messageContent: content,
    conversation: fc.record({ type: u32, target: str }),
    from: str,
    to: str,
    messageUid: fc.bigInt({ min: 0n, max: U64_MAX }),
    serverTime: fc.maxSafeInteger(),
    seq: fc.maxSafeNat(),
  },
  { requiredKeys: [] },
);

/** protobufjs's decoded object, as plain JSON-able values (longs and bytes as strings). */
function viaReflection(type: string, bytes: Uint8Array): unknown {
  const t = ref(type);
  return t.toObject(t.decode(bytes), { longs: String, bytes: String, defaults: true, arrays: true });
}

describe('generated codecs agree with protobufjs reflection', () => {
  it('im.Message: our bytes decode there to the same value, and its bytes equal ours', () => {
    fc.assert(
      fc.property(message, (m) => {
        const ours = codec.Message.encode(m);
        const t = ref('im.Message');
        const theirs = t.encode(t.fromObject(toReflectionInput(m))).finish();
        expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(theirs).toString('hex'));
        expect(codec.Message.decode(theirs)).toStrictEqual(codec.Message.decode(ours));
        expect(viaReflection('im.Message', ours)).toEqual(viaReflection('im.Message', theirs));
      }),
      { numRuns: 300 },
    );
  });

  it('packed repeated uint64 (AppendResult.seqs) and int64 numbers', () => {
    fc.assert(
      fc.property(fc.array(fc.maxSafeNat(), { maxLength: 50 }), fc.maxSafeInteger(), (seqs, serverTime) => {
        const ours = AppendResult.encode({ id: 7, uid: 2n ** 63n + 5n, serverTime, seqs, duplicate: true });
        const decoded = ref('im.internal.AppendResult').decode(ours) as unknown as { seqs: unknown[] };
        expect(decoded.seqs.map(String)).toEqual(seqs.map(String));
        expect(AppendResult.decode(ours).seqs).toEqual(seqs);
        // Unpacked (one tag per value) is read too, as protobuf requires.
        const unpacked = new protobuf.Writer();
        for (const s of seqs) unpacked.uint32((7 << 3) | 0).uint64(s);
        expect(AppendResult.decode(unpacked.finish()).seqs).toEqual(seqs);
      }),
      { numRuns: 200 },
    );
  });

  it('a field kept encoded is an ordinary embedded message on the wire', () => {
    fc.assert(
      fc.property(message, (m) => {
        const body = codec.Message.encode(m);
        const batch = SendBatch.encode({
          items: [{ id: 1, caller: { userId: 'u', deviceId: 'd', nodeId: 'n', epoch: 3 }, message: body }],
        });
        const seen = ref('im.internal.SendBatch').decode(batch) as unknown as {
          items: { message: unknown }[];
        };
        const inner = ref('im.Message');
        expect(Buffer.from(inner.encode(seen.items[0]?.message as protobuf.Message).finish())).toEqual(
          Buffer.from(body),
        );
        expect(SendBatch.decode(batch).items[0]?.message).toEqual(body);
        const delivery = DeliveryBatch.encode({
          messages: [{ message: body, e2e: true, from: 'a', fromDevice: 'd' }],
          deliveries: [{ push: { userId: 'b', seq: 9, message: 0 } }],
        });
        const d = DeliveryBatch.decode(delivery);
        expect(d.messages[0]?.message).toEqual(body);
        expect(d.deliveries[0]?.push).toStrictEqual({ userId: 'b', seq: 9, excludeDevice: '', message: 0 });
      }),
      { numRuns: 100 },
    );
  });
});

/** Our Message value in the shape protobufjs's fromObject takes (64-bit values as decimal strings). */
function toReflectionInput(m: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === 'bigint') out[k] = v.toString();
    else if (typeof v === 'number' && (k === 'serverTime' || k === 'seq')) out[k] = String(v);
    else if (v && typeof v === 'object' && !(v instanceof Uint8Array) && !Array.isArray(v))
      out[k] = { ...(v as object) };
    else out[k] = v;
  }
  return out;
}
