import { describe, expect, it } from 'vitest';
import {
  type BodyCodec,
  type CodecName,
  Compression,
  codec,
  DEFAULT_MAX_BODY_LENGTH,
  decodeHeader,
  FrameDecoder,
  frameToBytes,
  gunzipBody,
  unpackFlag,
} from '../src/index.js';
import { bytesToHex, type FrameVector, hexToBytes, loadVectors, reviveBody } from './vectors/index.js';

const vectors = loadVectors();

function codecFor(type: string): BodyCodec<object> {
  expect(Object.keys(codec)).toContain(type);
  return codec[type as CodecName] as BodyCodec<object>;
}

/** The body bytes the vector's description calls for (gzip is not canonical: its bytes come from hex). */
function expectedBody(v: FrameVector, hexBody: Uint8Array): Uint8Array {
  if (v.body.kind === 'empty') return new Uint8Array();
  if (v.body.kind === 'gzip') return hexBody;
  return codecFor(v.body.type).encode(reviveBody(v.body.value));
}

describe('shared frame vectors (test/vectors/frames.json)', () => {
  it('cover the cases the SDK and docs rely on', () => {
    const names = vectors.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const required of [
      'ping-request',
      'ping-response',
      'login-request',
      'mps-notify',
      'mp-response-gzip',
    ]) {
      expect(names).toContain(required);
    }
    expect(
      vectors.some((v) => v.body.kind === 'proto' && v.body.type === 'ErrorInfo' && v.header.status !== 0),
    ).toBe(true);
    expect(vectors.some((v) => v.header.length === 0)).toBe(true);
    const mps = vectors.find((v) => v.name === 'mps-notify');
    expect(mps?.body.kind === 'proto' && BigInt(mps.body.value.messageUid as string) >= 2n ** 53n).toBe(true);
  });

  for (const v of vectors) {
    describe(v.name, () => {
      const bytes = hexToBytes(v.hex);
      const hexBody = bytes.subarray(12);

      it('encodes to the vector hex', () => {
        const body = expectedBody(v, hexBody);
        const { length: _, ...header } = v.header;
        expect(bytesToHex(frameToBytes({ ...header, body }))).toBe(v.hex);
      });

      it('decodes from the vector hex', () => {
        expect(decodeHeader(bytes)).toEqual(v.header);
        const frames = new FrameDecoder().push(bytes);
        expect(frames).toHaveLength(1);
        const frame = frames[0];
        if (!frame) return;
        expect(frame.body.length).toBe(v.header.length);
        const gzip = unpackFlag(frame.flag).compression === Compression.GZIP;
        expect(gzip).toBe(v.body.kind === 'gzip');
        if (v.body.kind === 'empty') return;
        const plain = gzip ? gunzipBody(frame.body, DEFAULT_MAX_BODY_LENGTH) : frame.body;
        expect(codecFor(v.body.type).decode(plain)).toStrictEqual(reviveBody(v.body.value));
      });
    });
  }
});
