import { codec, type Message } from '@im/protocol';
import type { EncodedMessage, StoredMessage } from '../ports.js';

/**
 * A stored message as delivered (MPS, PullResponse): as the sender addressed it (protocol.md §6
 * Send: `conversation.target` as sent, `from` = sender; the recipient's peer is `from`), with the
 * server fields filled and `seq` = its position in the RECEIVING user's inbox (0 = transient).
 * The one conversion from the stored form to the wire form; the result shares the stored content
 * (it is encoded, not kept).
 */
export function toWireMessage(m: StoredMessage, seq: number): Message {
  return {
    messageId: m.messageId,
    messageContent: m.content,
    conversation: m.conversation,
    from: m.from,
    to: m.to,
    messageUid: m.uid,
    serverTime: m.serverTime,
    seq,
  };
}

/** The message encoded once for every delivery of it (ports.ts EncodedMessage: without seq). */
export function encodeForDelivery(m: StoredMessage): EncodedMessage {
  return {
    bytes: codec.Message.encode(toWireMessage(m, 0)),
    e2e: m.e2e,
    from: m.from,
    fromDevice: m.fromDevice,
    serverTime: m.serverTime,
  };
}
