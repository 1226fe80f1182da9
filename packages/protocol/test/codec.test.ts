import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BodyCodec,
  type CodecName,
  ContentType,
  ConversationType,
  codec,
  ImError,
  type Message,
  type MessageContent,
  Status,
} from '../src/index.js';

const U64_MAX = 2n ** 64n - 1n;
const te = new TextEncoder();

const fullContent: MessageContent = {
  contentType: ContentType.IMAGE,
  searchableContent: 'caption ✓ 日本',
  pushContent: 'alice sent a photo',
  data: new Uint8Array([0, 1, 2, 255]),
  mentionedType: 1,
  mentionedTargets: ['bob', 'carol'],
  mediaType: 2,
  msgLength: 4_294_967_295,
  remoteMediaUrl: 'https://cdn.example/p.jpg',
  localMediaPath: '/tmp/p.jpg',
};

const fullMessage: Message = {
  messageId: U64_MAX,
  messageContent: fullContent,
  conversation: { type: ConversationType.GROUP, target: 'g1' },
  from: 'alice',
  to: 'g1',
  messageUid: 2n ** 63n,
  serverTime: 1_700_000_000_123,
  seq: Number.MAX_SAFE_INTEGER,
};

const EMPTY_CONTENT: MessageContent = {
  contentType: 0,
  searchableContent: '',
  pushContent: '',
  data: new Uint8Array(),
  mentionedType: 0,
  mentionedTargets: [],
  mediaType: 0,
  msgLength: 0,
  remoteMediaUrl: '',
  localMediaPath: '',
};

function withoutContent(): Message {
  const { messageContent: _, ...rest } = fullMessage;
  return rest;
}

/** A full value of every body type, with extremes. */
const SAMPLES: { [N in CodecName]: ReturnType<(typeof codec)[N]['decode']> } = {
  Message: fullMessage,
  MessageContent: fullContent,
  Conversation: { type: ConversationType.CHATROOM, target: 'room' },
  LoginRequest: {
    userId: 'alice',
    token: 'jwt',
    deviceId: 'd1',
    platform: 5,
    clientVersion: '2.0',
    publicKey: te.encode('spki'),
    clientTime: 1_700_000_000_456,
  },
  LoginResponse: { serverTime: Number.MAX_SAFE_INTEGER, heartbeatSeconds: 30, head: 7, sessionId: 's' },
  SendAck: { messageUid: U64_MAX, serverTime: Number.MIN_SAFE_INTEGER, seq: 0 },
  PullRequest: { since: 12, limit: 500, conversation: { type: 0, target: 'bob' }, beforeUid: 2n ** 63n + 1n },
  PullResponse: { messages: [fullMessage, withoutContent()], head: 9, hasMore: true },
  Notify: { head: Number.MAX_SAFE_INTEGER },
  RecallRequest: { messageUid: 1n },
  ChatroomRequest: { chatroomId: 'room-1' },
  ErrorInfo: { message: 'slow down', retryAfterMs: 0xffffffff },
};

/** Offsets at which a top-level field of `bytes` ends (canonical encodings hold only varint and length-delimited fields). */
function fieldBoundaries(bytes: Uint8Array): Set<number> {
  const ends = new Set<number>();
  const varint = (at: number): [number, number] => {
    let v = 0;
    let mul = 1;
    let p = at;
    for (;;) {
      const b = bytes[p++] as number;
      v += (b & 127) * mul;
      mul *= 128;
      if (b < 128) return [v, p];
    }
  };
  let p = 0;
  while (p < bytes.length) {
    const [tag, afterTag] = varint(p);
    const [value, afterValue] = varint(afterTag);
    p = (tag & 7) === 2 ? afterValue + value : afterValue;
    ends.add(p);
  }
  return ends;
}

function badRequest(fn: () => unknown): ImError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ImError);
    expect((err as ImError).status).toBe(Status.BAD_REQUEST);
    return err as ImError;
  }
  throw new Error('expected ImError(BAD_REQUEST)');
}

describe('codec round trips (protocol.md §5)', () => {
  for (const [name, sample] of Object.entries(SAMPLES) as [CodecName, object][]) {
    it(`${name}: decode(encode(v)) equals v, with extremes`, () => {
      const c = codec[name] as BodyCodec<object>;
      expect(c.decode(c.encode(sample))).toStrictEqual(sample);
    });
  }

  it('fills proto3 defaults, and leaves absent nested messages undefined', () => {
    expect(codec.Message.encode({})).toEqual(new Uint8Array());
    expect(codec.Message.decode(new Uint8Array())).toStrictEqual({
      messageId: 0n,
      from: '',
      to: '',
      messageUid: 0n,
      serverTime: 0,
      seq: 0,
    });
    expect(codec.PullResponse.decode(new Uint8Array())).toStrictEqual({
      messages: [],
      head: 0,
      hasMore: false,
    });
    expect(codec.LoginRequest.decode(new Uint8Array()).publicKey).toEqual(new Uint8Array());
  });

  it('keeps a present but empty nested message, filled with defaults', () => {
    const decoded = codec.Message.decode(codec.Message.encode({ messageContent: {}, conversation: {} }));
    expect(decoded.messageContent).toStrictEqual(EMPTY_CONTENT);
    expect(decoded.conversation).toStrictEqual({ type: 0, target: '' });
  });

  it('encodes canonical proto3: default values are left out', () => {
    const zeros = codec.Message.encode({ messageId: 0n, from: '', seq: 0, serverTime: 0, messageUid: 0n });
    expect(zeros).toEqual(new Uint8Array());
    // messageId = 1 → tag 0x08, varint 1; from = "a" → tag 0x22, length 1, 'a'.
    expect(Array.from(codec.Message.encode({ messageId: 1n, from: 'a' }))).toEqual([
      0x08, 0x01, 0x22, 0x01, 0x61,
    ]);
  });

  it('encodes uint64 ids exactly over the whole range', () => {
    // 2^64-1 is the 10-byte varint ff ff ff ff ff ff ff ff ff 01.
    expect(Array.from(codec.RecallRequest.encode({ messageUid: U64_MAX }))).toEqual([
      0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: U64_MAX }), (uid) => {
        expect(codec.RecallRequest.decode(codec.RecallRequest.encode({ messageUid: uid })).messageUid).toBe(
          uid,
        );
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips arbitrary Messages', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const content = fc.record({
      contentType: u32,
      searchableContent: fc.string({ unit: 'grapheme' }),
      pushContent: fc.string(),
      data: fc.uint8Array(),
      mentionedType: u32,
      mentionedTargets: fc.array(fc.string()),
      mediaType: u32,
      msgLength: u32,
      remoteMediaUrl: fc.string(),
      localMediaPath: fc.string(),
    });
    const message = fc.record(
      {
        messageId: fc.bigInt({ min: 0n, max: U64_MAX }),
        messageContent: content,
        conversation: fc.record({ type: u32, target: fc.string() }),
        from: fc.string({ unit: 'grapheme' }),
        to: fc.string(),
        messageUid: fc.bigInt({ min: 0n, max: U64_MAX }),
        serverTime: fc.maxSafeInteger(),
        seq: fc.maxSafeNat(),
      },
      { requiredKeys: ['messageId', 'from', 'to', 'messageUid', 'serverTime', 'seq'] },
    );
    fc.assert(
      fc.property(message, (m) => {
        // fast-check builds null-prototype records; compare against a plain copy.
        const expected = { ...m, ...(m.messageContent && { messageContent: { ...m.messageContent } }) };
        if (m.conversation) expected.conversation = { ...m.conversation };
        expect(codec.Message.decode(codec.Message.encode(m))).toStrictEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('decoded bytes are plain copies, not views into the input', () => {
    const bytes = codec.LoginRequest.encode({ publicKey: new Uint8Array([1, 2, 3]) });
    const decoded = codec.LoginRequest.decode(bytes);
    expect(decoded.publicKey.constructor).toBe(Uint8Array);
    bytes.fill(0);
    expect(decoded.publicKey).toEqual(new Uint8Array([1, 2, 3]));
  });
});

describe('codec refusals', () => {
  it('a body cut anywhere but between two top-level fields is BAD_REQUEST naming the message type', () => {
    for (const [name, sample] of Object.entries(SAMPLES) as [CodecName, object][]) {
      const c = codec[name] as BodyCodec<object>;
      const bytes = c.encode(sample);
      const boundaries = fieldBoundaries(bytes);
      let refused = 0;
      for (let len = 1; len < bytes.length; len++) {
        if (boundaries.has(len)) {
          // A cut between fields is a valid, shorter body.
          expect(() => c.decode(bytes.subarray(0, len))).not.toThrow();
        } else {
          const err = badRequest(() => c.decode(bytes.subarray(0, len)));
          expect(err.message).toContain(name);
          refused++;
        }
      }
      expect(refused).toBeGreaterThan(0);
    }
  });

  it('invalid wire types, broken varints and bad UTF-8 are BAD_REQUEST', () => {
    expect(badRequest(() => codec.Message.decode(new Uint8Array([0x0f, 0x01]))).message).toContain('Message');
    expect(badRequest(() => codec.Notify.decode(new Uint8Array([0x08, 0xff, 0xff]))).message).toContain(
      'Notify',
    );
    badRequest(() => codec.ChatroomRequest.decode(new Uint8Array([0x0a, 0x02, 0xc3, 0x28])));
    badRequest(() => codec.Message.decode(new Uint8Array([0x12, 0x05, 0x08])));
  });

  it('a seq/head/time a double cannot hold exactly is BAD_REQUEST', () => {
    const big = codec.RecallRequest.encode({ messageUid: 2n ** 53n }); // same wire shape as Notify.head
    expect(badRequest(() => codec.Notify.decode(big)).message).toContain('Notify.head');
    const time = codec.RecallRequest.encode({ messageUid: 2n ** 60n }); // field 1 = LoginResponse.serverTime
    expect(badRequest(() => codec.LoginResponse.decode(time)).message).toContain('LoginResponse.serverTime');
    expect(codec.Notify.decode(codec.RecallRequest.encode({ messageUid: 2n ** 53n - 1n })).head).toBe(
      Number.MAX_SAFE_INTEGER,
    );
    // int64 -1 travels as ten bytes and decodes to -1.
    expect(codec.LoginResponse.decode(codec.LoginResponse.encode({ serverTime: -1 })).serverTime).toBe(-1);
  });

  it('encode refuses values the field cannot carry', () => {
    expect(() => codec.RecallRequest.encode({ messageUid: 2n ** 64n })).toThrow(RangeError);
    expect(() => codec.RecallRequest.encode({ messageUid: -1n })).toThrow(RangeError);
    expect(() => codec.Notify.encode({ head: -1 })).toThrow(RangeError);
    expect(() => codec.Notify.encode({ head: 2 ** 53 })).toThrow(RangeError);
    expect(() => codec.ErrorInfo.encode({ retryAfterMs: 2 ** 32 })).toThrow(RangeError);
    expect(() => codec.SendAck.encode({ serverTime: 0.5 })).toThrow(RangeError);
  });

  it('applies decode limits on strings, bytes and repeated fields', () => {
    const m = codec.Message.encode({
      from: 'x'.repeat(10),
      messageContent: { data: new Uint8Array(10), mentionedTargets: ['a', 'b', 'c'] },
    });
    expect(codec.Message.decode(m, { maxStringLength: 10, maxBytesLength: 10, maxRepeated: 3 }).from).toBe(
      'x'.repeat(10),
    );
    expect(badRequest(() => codec.Message.decode(m, { maxStringLength: 9 })).message).toContain(
      'Message.from',
    );
    expect(badRequest(() => codec.Message.decode(m, { maxBytesLength: 9 })).message).toContain(
      'MessageContent.data',
    );
    expect(badRequest(() => codec.Message.decode(m, { maxRepeated: 2 })).message).toContain(
      'MessageContent.mentionedTargets',
    );
    const pull = codec.PullResponse.encode({ messages: [{}, {}, {}] });
    expect(badRequest(() => codec.PullResponse.decode(pull, { maxRepeated: 2 })).message).toContain(
      'PullResponse.messages',
    );
  });
});
