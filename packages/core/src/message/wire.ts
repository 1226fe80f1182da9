import type { Message } from '@im/protocol';
import type { StoredMessage } from '../ports.js';

/**
 * A stored message as delivered (MPS, PullResponse): as the sender addressed it (protocol.md §6
 * Send: `conversation.target` as sent, `from` = sender; the recipient's peer is `from`), with the
 * server fields filled and `seq` = its position in the RECEIVING user's inbox (0 = transient).
 */
export function toWireMessage(m: StoredMessage, seq: number): Message {
  return {
    messageId: m.messageId,
    messageContent: { ...m.content, mentionedTargets: [...m.content.mentionedTargets] },
    conversation: { ...m.conversation },
    from: m.from,
    to: m.to,
    messageUid: m.uid,
    serverTime: m.serverTime,
    seq,
  };
}

/**
 * An upper bound on the bytes of codec.Message.encode(toWireMessage(m, seq)), for any seq: every
 * field at its largest (1-byte tags, as every field number is below 16; 5-byte lengths and uint32
 * varints; 10-byte 64-bit varints; 3 UTF-8 bytes per UTF-16 unit). Cheap next to an encoding, and
 * exact enough to settle most size checks (fanout.ts) without one.
 */
export function wireSizeBound(m: StoredMessage): number {
  const text = (s: string) => 6 + 3 * s.length;
  const c = m.content;
  let content = 6 * 5 + text(c.searchableContent) + text(c.pushContent) + 6 + c.data.length;
  content += text(c.remoteMediaUrl) + text(c.localMediaPath);
  for (const t of c.mentionedTargets) content += text(t);
  const conversation = 6 + text(m.conversation.target);
  return 4 * 11 + 6 + content + 6 + conversation + text(m.from) + text(m.to);
}
