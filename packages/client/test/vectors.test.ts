/**
 * The shared hex vectors (packages/protocol/test/vectors) through the SDK's own framing: the
 * Connection must parse each one (whole and split at every byte) and write each one byte for byte,
 * and a scripted ImClient session must put exactly the vector bytes on the wire — for both entries
 * (the browser one inflates gzip with DecompressionStream).
 */
import { type BodyCodec, Command, codec, gzipBody, unpackFlag } from '@im/protocol';
import { describe, expect, it } from 'vitest';
import {
  bytesToHex,
  type FrameVector,
  hexToBytes,
  loadVectors,
  reviveBody,
} from '../../protocol/test/vectors/index.js';
import { group, TooManyRequestsError } from '../src/index.js';
import { ENTRIES } from './helpers/entries.js';
import { MemoryTransport, memoryConnector } from './helpers/memory-transport.js';
import { waitFor } from './helpers/wait.js';

const vectors = loadVectors();
const byName = (name: string): FrameVector => {
  const v = vectors.find((x) => x.name === name);
  if (!v) throw new Error(`no vector ${name}`);
  return v;
};
const codecOf = (type: string): BodyCodec<unknown> =>
  (codec as unknown as Record<string, BodyCodec<unknown>>)[type] as BodyCodec<unknown>;

function bodyBytes(v: FrameVector): Uint8Array {
  if (v.body.kind === 'empty') return new Uint8Array(0);
  const encoded = codecOf(v.body.type).encode(reviveBody(v.body.value));
  // gzip output is not canonical across zlib builds; take the travelling body from the vector itself.
  return v.body.kind === 'gzip' ? hexToBytes(v.hex).subarray(12) : encoded;
}

describe.each(ENTRIES)('shared frame vectors through the SDK framing ($name entry)', ({ sdk }) => {
  it('has vectors to check', () => {
    expect(vectors.length).toBeGreaterThan(5);
  });

  for (const v of vectors) {
    describe(v.name, () => {
      it('parses, whole and split at every byte', async () => {
        const bytes = hexToBytes(v.hex);
        for (let split = 0; split <= bytes.length; split++) {
          const t = new MemoryTransport();
          const conn = new sdk.Connection(t);
          const frames: { seq: number; command: number; flag: number; status: number; body: Uint8Array }[] =
            [];
          conn.on('frame', (f) => frames.push(f));
          t.feed(bytes.slice(0, split));
          t.feed(bytes.slice(split));
          // A gzip body is inflated later by the browser build (DecompressionStream).
          if (v.body.kind === 'gzip') await waitFor('the frame', () => frames.length > 0);
          expect(frames).toHaveLength(1);
          const f = frames[0] as (typeof frames)[0];
          expect({ version: 1, seq: f.seq, command: f.command, flag: f.flag, status: f.status }).toEqual({
            version: v.header.version,
            seq: v.header.seq,
            command: v.header.command,
            flag: v.header.flag,
            status: v.header.status,
          });
          if (v.body.kind === 'empty') {
            expect(f.body.length).toBe(0);
          } else {
            // The Connection hands out inflated bodies (gzip vectors included).
            expect(codecOf(v.body.type).decode(f.body)).toEqual(reviveBody(v.body.value));
          }
        }
      });

      it('is written byte for byte', () => {
        const t = new MemoryTransport();
        const conn = new sdk.Connection(t);
        conn.writeFrame({ ...v.header, body: bodyBytes(v) });
        expect(bytesToHex(t.written[0] as Uint8Array)).toBe(v.hex);
      });
    });
  }

  it('the gzip vector is a gzip of the codec bytes', async () => {
    const v = byName('mp-response-gzip');
    expect(unpackFlag(v.header.flag).compression).toBe(1);
    if (v.body.kind !== 'gzip') throw new Error('expected a gzip vector');
    // Round trip through our own gzip: the Connection inflates it back to the same value.
    const raw = codec.PullResponse.encode(reviveBody(v.body.value));
    const t = new MemoryTransport();
    const conn = new sdk.Connection(t);
    const got: Uint8Array[] = [];
    conn.on('frame', (f) => got.push(f.body));
    const gz = gzipBody(raw);
    const header = hexToBytes(v.hex).slice(0, 12);
    new DataView(header.buffer).setUint32(0, gz.length);
    t.feed(header);
    t.feed(gz);
    await waitFor('the inflated frame', () => got.length > 0);
    expect(got[0]).toEqual(raw);
  });

  it('an error response vector rejects the matching request with the typed error', async () => {
    const v = byName('error-response-too-many-requests');
    const t = new MemoryTransport();
    const conn = new sdk.Connection(t);
    for (let i = 1; i < v.header.seq; i++) conn.nextSeq();
    const pending = conn.request(Command.MS, new Uint8Array(0));
    t.feed(hexToBytes(v.hex));
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooManyRequestsError);
    expect(err).toMatchObject({
      status: 5,
      statusName: 'TOO_MANY_REQUESTS',
      reason: 'rate limit exceeded',
      retryAfterMs: 1500,
    });
  });

  it('a scripted ImClient session writes and reads exactly the vectors', async () => {
    const answers = new Map<string, string>();
    const seen: string[] = [];
    const { connector, transports } = memoryConnector((t) => {
      t.onWrite = (bytes) => {
        const hex = bytesToHex(bytes);
        seen.push(hex);
        const answer = answers.get(hex);
        if (answer) queueMicrotask(() => t.feed(hexToBytes(answer)));
      };
    });
    const login = byName('login-request');
    if (login.body.kind !== 'proto') throw new Error('expected a proto vector');
    const req = reviveBody(login.body.value);
    const client = new sdk.ImClient({
      host: 'memory',
      port: 0,
      connector,
      userId: req.userId as string,
      token: req.token as string,
      deviceId: req.deviceId as string,
      platform: req.platform as number,
      clientVersion: req.clientVersion as string,
      publicKey: req.publicKey as Uint8Array,
      firstMessageId: 16n,
      reconnect: false,
    });
    answers.set(login.hex, byName('login-response').hex);
    answers.set(byName('ms-request').hex, byName('send-ack-response').hex);
    const loginResponse = await client.connect();
    const t = transports[0] as MemoryTransport;
    expect(seen).toEqual([login.hex]);
    expect(loginResponse).toMatchObject({ head: 42, heartbeatSeconds: 30, sessionId: 'sess-1' });

    const ack = await client.sendText('bob', 'hi bob');
    expect(seen).toContain(byName('ms-request').hex);
    expect(ack).toMatchObject({ messageUid: 9223372036854775809n, seq: 43, messageId: 17n });
    expect(client.lastSeq).toBe(43);

    // MPS with seq 44 right after our own 43: delivered without a pull.
    const messages: bigint[] = [];
    client.on('message', (m) => messages.push(m.messageUid));
    t.feed(hexToBytes(byName('mps-notify').hex));
    expect(messages).toEqual([9007199254740993n]);
    expect(client.lastSeq).toBe(44);

    // History request: same body and command as the vector (its seq is the session's next).
    const hist = byName('mp-history-request');
    void client.history(group('group-9'), { beforeUid: 18446744073709551615n, limit: 50 }).catch(() => {});
    const last = t.written.at(-1) as Uint8Array;
    expect(bytesToHex(last.subarray(12))).toBe(hist.hex.slice(24));
    expect(last[9]).toBe(Command.MP);
    await client.close();
  });
});
