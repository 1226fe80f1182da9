import { ImError, Status } from '@im/protocol';
import type { GroupDirectory } from '../../groups.js';
import type { StoredMessage } from '../../ports.js';
import type { Audience, ConversationPolicy, SendContext } from './policy.js';

/**
 * protocol.md §6 Groups: write fan-out to every member's inbox; the sender must be a member.
 * Groups larger than `pushMaxGroupMembers` are announced with MN instead of MPS (§6 Delivery).
 */
export function groupPolicy(groups: GroupDirectory, pushMaxGroupMembers: number): ConversationPolicy {
  const audience = (members: string[], to: string): Audience => ({
    to,
    members,
    inboxUsers: members,
    recipients: members,
    notifyOnly: members.length > pushMaxGroupMembers,
    offlinePush: true,
  });
  return {
    async resolve(ctx: SendContext): Promise<Audience> {
      const members = await groups.members(ctx.conversation.target);
      if (!members) throw new ImError(Status.NOT_FOUND, 'unknown group');
      if (!members.includes(ctx.sender)) throw new ImError(Status.FORBIDDEN, 'not a member of the group');
      return audience(members, ctx.to);
    },
    async recallAudience(original: StoredMessage): Promise<Audience> {
      // The group as it is now (a member removed since keeps the wiped original, not the notice);
      // the recaller always gets it, even after leaving or when the group is gone.
      const members = (await groups.members(original.conversation.target)) ?? [];
      const users = members.includes(original.from) ? members : [...members, original.from];
      return audience(users, original.to);
    },
  };
}
