/**
 * The SDK's end-to-end content format (protocol.md §2 End-to-end RSA: "the format is the clients'
 * business; the SDK provides one: RSA-OAEP-wrapped content key + AES-256-GCM"). The server stores
 * and relays `messageContent.data` untouched and never holds a key that opens it.
 *
 *   data = "IME2" ‖ version (1) ‖ n (1) ‖ n × (u16 len ‖ RSA-OAEP-SHA256(contentKey))
 *          ‖ nonce (12) ‖ AES-256-GCM(contentKey, plaintext) ‖ tag (16)
 *
 * One wrapped copy of the random content key per recipient key (the sender's own key included, so
 * the sender's other devices can read it). The AAD is everything before the nonce plus the
 * message's sender and conversation, so the server cannot re-attribute a ciphertext to another
 * sender or conversation without the tag failing. Nothing here signs: a recipient knows the content
 * was sealed for its key, not by whom — the server's `from` is trusted for that, as with plain chats.
 *
 * Written once on the Runtime's primitives, so the Node and browser builds read each other's
 * messages; asynchronous because WebCrypto is.
 */
import { AES_OVERHEAD, type Conversation, DecryptError } from '@im/protocol/portable';
import type { PrivateKeyInput, PublicKeyInput, Runtime } from './runtime.js';

export const E2E_MAGIC = Uint8Array.of(0x49, 0x4d, 0x45, 0x32); // "IME2"
export const E2E_VERSION = 1;
const CONTENT_KEY_LENGTH = 32;
const MAX_RECIPIENT_KEYS = 255;

/** Who sent it where: bound into the AAD (the sender's user id and the conversation as stored). */
export interface E2eContext {
  from: string;
  conversation: Conversation;
}

function contextBytes(ctx: E2eContext): Uint8Array {
  return new TextEncoder().encode(`${ctx.from}\n${ctx.conversation.type}\n${ctx.conversation.target}`);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** True when `data` is in this format (so a pulled message can be recognised without its flag). */
export function isSealedContent(data: Uint8Array): boolean {
  return data.length > E2E_MAGIC.length + 2 && E2E_MAGIC.every((b, i) => data[i] === b);
}

/** Seals `plaintext` for every key in `recipients` (de-duplicated by the caller if needed). */
export async function sealContentWith(
  runtime: Runtime,
  plaintext: Uint8Array,
  recipients: (PublicKeyInput | PrivateKeyInput)[],
  ctx: E2eContext,
): Promise<Uint8Array> {
  if (recipients.length === 0) throw new RangeError('end-to-end content needs at least one recipient key');
  if (recipients.length > MAX_RECIPIENT_KEYS)
    throw new RangeError(`at most ${MAX_RECIPIENT_KEYS} recipient keys`);
  const contentKey = runtime.randomBytes(CONTENT_KEY_LENGTH);
  const parts: Uint8Array[] = [E2E_MAGIC, Uint8Array.of(E2E_VERSION, recipients.length)];
  for (const key of recipients) {
    // A private key stands for its public half (the sender's own key).
    const wrapped = await runtime.oaepEncrypt(await runtime.publicKeyDer(key), contentKey);
    const len = new Uint8Array(2);
    new DataView(len.buffer).setUint16(0, wrapped.length);
    parts.push(len, wrapped);
  }
  const header = concat(parts);
  const aes = await runtime.aesGcm(contentKey);
  const sealed = await aes.seal(concat([header, contextBytes(ctx)]), plaintext);
  return concat([header, sealed]);
}

/** The plaintext, or DecryptError when the data is not for this key or was altered. */
export async function openContentWith(
  runtime: Runtime,
  data: Uint8Array,
  privateKey: PrivateKeyInput,
  ctx: E2eContext,
): Promise<Uint8Array> {
  if (!isSealedContent(data)) throw new DecryptError('not end-to-end content (no IME2 header)');
  if (data[4] !== E2E_VERSION)
    throw new DecryptError(`end-to-end content version ${data[4]} is not supported`);
  const n = data[5] as number;
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  let at = 6;
  let contentKey: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    if (at + 2 > data.length) throw new DecryptError('end-to-end content is truncated');
    const len = view.getUint16(at);
    const block = data.subarray(at + 2, at + 2 + len);
    if (block.length !== len) throw new DecryptError('end-to-end content is truncated');
    at += 2 + len;
    if (contentKey) continue;
    try {
      contentKey = await runtime.oaepDecrypt(privateKey, block);
    } catch (err) {
      // Wrapped for another recipient: try the next copy. A key that is not an RSA key is the caller's.
      if (!(err instanceof DecryptError)) throw err;
    }
  }
  if (!contentKey) throw new DecryptError('end-to-end content was not sealed for this key');
  if (data.length - at < AES_OVERHEAD) throw new DecryptError('end-to-end content is truncated');
  const header = data.subarray(0, at);
  const aes = await runtime.aesGcm(contentKey);
  return aes.open(concat([header, contextBytes(ctx)]), data.subarray(at));
}
