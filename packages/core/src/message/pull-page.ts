/**
 * protocol.md §1: "No frame the server sends is larger than the maximum either. A PullResponse holds
 * as many messages as fit within limit and the maximum body, with hasMore = true when it stopped
 * early; it always holds at least one message when one is due." And the other half: "an MS whose
 * Message would not fit in a PullResponse of the maximum body once the server added its fields is
 * BAD_REQUEST", so that every stored message fits in one response. Sizes are exact: each message is
 * measured by encoding it (codec.Message.encode), the response's own fields at their largest.
 */
import { codec, type Message } from '@im/protocol';

/**
 * PullResponse fields besides its messages, at their largest: head (field 2: tag + a varint of a
 * seq below 2^53, 8 bytes) and hasMore (field 3: tag + 1).
 */
export const PULL_RESPONSE_FIELDS_MAX = 1 + 8 + 2;
/** The largest seq a delivered message can carry (docs/protocol.md §8.1: safe integers). */
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** The byte budget for the messages of one PullResponse of `maxBody` (what the stores page by). */
export function pullMessagesBudget(maxBody: number): number {
  return maxBody - PULL_RESPONSE_FIELDS_MAX;
}

/** Bytes one encoded message takes in PullResponse.messages (field 1): tag, length, the message. */
export function pulledBytes(encodedLength: number): number {
  return 1 + varintLength(encodedLength) + encodedLength;
}

/**
 * The first messages, in order, that fit one PullResponse of maxBody (the first one always, so a
 * page is never empty when a message is due); `cut` when some were left out.
 */
export function fitPage(messages: Message[], maxBody: number): { messages: Message[]; cut: boolean } {
  const budget = pullMessagesBudget(maxBody);
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    total += pulledBytes(codec.Message.encode(messages[i] as Message).length);
    if (total > budget && i > 0) return { messages: messages.slice(0, i), cut: true };
  }
  return { messages, cut: false };
}

/**
 * The size of the smallest PullResponse that holds `m` (as delivered: server fields filled) at the
 * largest seq it could have; above maxBody it could never be pulled.
 */
export function aloneInPullBytes(m: Message): number {
  return pulledBytes(codec.Message.encode({ ...m, seq: MAX_SEQ }).length) + PULL_RESPONSE_FIELDS_MAX;
}

function varintLength(n: number): number {
  let len = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) len++;
  return len;
}
