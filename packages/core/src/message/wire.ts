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
