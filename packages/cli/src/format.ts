/** How messages and acks are printed: one readable line, or one JSON object per line (--json). */
import { messageText, recalledUid, type SendResult } from '@im/client';
import { ContentType, ConversationType, type Message } from '@im/protocol';

const KIND_LABELS: Record<number, string> = {
  [ContentType.SOUND]: '[voice]',
  [ContentType.IMAGE]: '[image]',
  [ContentType.LOCATION]: '[location]',
  [ContentType.FILE]: '[file]',
  [ContentType.VIDEO]: '[video]',
  [ContentType.STICKER]: '[sticker]',
  [ContentType.TYPING]: '[typing…]',
};

/** HH:MM:SS in local time. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

function target(m: Message): string {
  const c = m.conversation;
  if (!c) return m.to;
  if (c.type === ConversationType.GROUP) return `group ${c.target}`;
  if (c.type === ConversationType.CHATROOM) return `room ${c.target}`;
  return m.to || c.target;
}

function body(m: Message): string {
  const type = m.messageContent?.contentType ?? ContentType.UNKNOWN;
  if (type === ContentType.RECALL) {
    const uid = recalledUid(m);
    return uid === undefined ? '[recalled]' : `[recalled message ${uid}]`;
  }
  const text = messageText(m);
  if (text) return text;
  return KIND_LABELS[type] ?? `[content type ${type}]`;
}

/** `[12:03:04] alice → bob: hello  (seq 7, uid 123…)` */
export function formatMessage(m: Message): string {
  return `[${clock(m.serverTime)}] ${m.from} → ${target(m)}: ${body(m)}  (seq ${m.seq}, uid ${m.messageUid})`;
}

export function formatAck(to: string, ack: SendResult): string {
  return `sent to ${to} at ${clock(ack.serverTime)}  (seq ${ack.seq}, uid ${ack.messageUid}, messageId ${ack.messageId})`;
}

/** JSON with bigint as a decimal string and bytes as base64, plus a `text` field when there is one. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.length).toString('base64');
    return v;
  });
}

export function messageJson(m: Message): string {
  return toJson({ ...m, text: messageText(m) });
}
