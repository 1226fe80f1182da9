import { ImError, Status } from '@im/protocol';
import type { StoredMessage } from '../../ports.js';
import type { Audience, ConversationPolicy, SendContext } from './policy.js';

/**
 * protocol.md §6 Send, single chat: target is the recipient and `to` equals it (an empty `to` is
 * filled, a different one is BAD_REQUEST). Users need no registration, so any target is valid.
 * Both inboxes get the message; a chat with oneself has one inbox. The two parties are the
 * "members" a mention may name.
 */
export function singlePolicy(): ConversationPolicy {
  const audience = (sender: string, peer: string, to: string): Audience => {
    const users = sender === peer ? [sender] : [sender, peer];
    return { to, members: users, inboxUsers: users, recipients: users, notifyOnly: false, offlinePush: true };
  };
  return {
    async resolve(ctx: SendContext): Promise<Audience> {
      const target = ctx.conversation.target;
      if (ctx.to !== '' && ctx.to !== target) {
        throw new ImError(Status.BAD_REQUEST, 'to must equal conversation.target in a single chat');
      }
      return audience(ctx.sender, target, target);
    },
    async recallAudience(original: StoredMessage): Promise<Audience> {
      return audience(original.from, original.conversation.target, original.to);
    },
  };
}
