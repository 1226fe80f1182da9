/**
 * Shared frame vectors (STYLE.md "shared test vectors"): hex frames every implementation must
 * produce and parse byte for byte. Imported by relative path from other packages' tests (the client
 * SDK), so this file depends on nothing but node:fs.
 *
 * In frames.json a body value is a plain JSON object with every field present; uint64 ids
 * (messageId, messageUid, beforeUid) are decimal strings, bytes fields (data, publicKey) are hex.
 */
import { readFileSync } from 'node:fs';

export interface VectorHeader {
  length: number;
  version: number;
  seq: number;
  command: number;
  flag: number;
  status: number;
}

export type JsonBody = { [field: string]: JsonValue };
export type JsonValue = string | number | boolean | JsonValue[] | JsonBody;

export type VectorBody =
  /** len = 0. */
  | { kind: 'empty' }
  /** The body is `type` encoded as protobuf (protocol.md §5). */
  | { kind: 'proto'; type: string; value: JsonBody }
  /** The body is gzip of `type` encoded as protobuf (flag compression = 1, protocol.md §2). */
  | { kind: 'gzip'; type: string; value: JsonBody };

export interface FrameVector {
  name: string;
  description: string;
  hex: string;
  header: VectorHeader;
  body: VectorBody;
}

export function loadVectors(): FrameVector[] {
  const text = readFileSync(new URL('./frames.json', import.meta.url), 'utf8');
  return JSON.parse(text) as FrameVector[];
}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) throw new Error(`not a hex string: ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const BIGINT_FIELDS = new Set(['messageId', 'messageUid', 'beforeUid']);
const BYTES_FIELDS = new Set(['data', 'publicKey']);

/** The JSON body as the codec's value: ids become bigint, bytes become Uint8Array. */
export function reviveBody(value: JsonBody): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (BIGINT_FIELDS.has(key)) out[key] = BigInt(v as string);
    else if (BYTES_FIELDS.has(key)) out[key] = hexToBytes(v as string);
    else if (Array.isArray(v))
      out[key] = v.map((e) => (typeof e === 'object' ? reviveBody(e as JsonBody) : e));
    else if (typeof v === 'object') out[key] = reviveBody(v);
    else out[key] = v;
  }
  return out;
}

/** The inverse of reviveBody, used to write frames.json. */
export function jsonifyBody(value: object): JsonBody {
  const out: JsonBody = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (typeof v === 'bigint') out[key] = v.toString();
    else if (v instanceof Uint8Array) out[key] = bytesToHex(v);
    else if (Array.isArray(v)) out[key] = v.map((e) => (typeof e === 'object' ? jsonifyBody(e) : e));
    else if (typeof v === 'object') out[key] = jsonifyBody(v);
    else out[key] = v as JsonValue;
  }
  return out;
}
