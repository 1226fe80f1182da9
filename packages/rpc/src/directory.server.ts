import type { Chatroom, ChatroomDirectory, Group, GroupAdmin } from '@im/core';
import { ImError, Status } from '@im/protocol';
import type { ChatroomReply, GroupReply, StorageService } from '@im/protocol/internal';
import type { UnaryHandlers } from './spec.js';

/** What the storage process serves besides the MessageStore (same database). */
export interface StorageDirectories {
  groups: GroupAdmin;
  chatrooms: ChatroomDirectory;
}

type DirectoryMethods =
  | 'groupMembers'
  | 'createGroup'
  | 'getGroup'
  | 'deleteGroup'
  | 'addGroupMembers'
  | 'removeGroupMembers'
  | 'createChatroom'
  | 'getChatroom'
  | 'deleteChatroom'
  | 'touchChatrooms'
  | 'evictIdleChatrooms';

export type DirectoryHandlers = UnaryHandlers<typeof StorageService, DirectoryMethods>;

const groupReply = (g: Group | null): Partial<GroupReply> =>
  g ? { found: true, group: g } : { found: false };
const chatroomReply = (c: Chatroom | null): Partial<ChatroomReply> =>
  c ? { found: true, chatroom: c } : { found: false };

export function groupOf(r: GroupReply): Group | null {
  if (!r.found) return null;
  return r.group ?? { id: '', members: [], createdAt: 0 };
}

export function chatroomOf(r: ChatroomReply): Chatroom | null {
  if (!r.found) return null;
  return r.chatroom ?? { id: '', createdAt: 0, lastActiveAt: 0 };
}

/**
 * The group and chatroom directory rpcs of im.internal.StorageService. Without directories (a
 * storage server that only fronts a MessageStore, as in some tests) they answer UNSUPPORTED.
 */
export function directoryHandlers(dirs: StorageDirectories | undefined): DirectoryHandlers {
  const need = (): StorageDirectories => {
    if (!dirs) throw new ImError(Status.UNSUPPORTED, 'this storage server has no group/chatroom directory');
    return dirs;
  };
  return {
    groupMembers: async (r) => {
      const members = await need().groups.members(r.groupId);
      return members === null ? { found: false } : { found: true, members };
    },
    createGroup: async (r) => groupReply(await need().groups.createGroup(r.groupId, r.userIds)),
    getGroup: async (r) => groupReply(await need().groups.getGroup(r.groupId)),
    deleteGroup: async (r) => ({ deleted: await need().groups.deleteGroup(r.groupId) }),
    addGroupMembers: async (r) => groupReply(await need().groups.addMembers(r.groupId, r.userIds)),
    removeGroupMembers: async (r) => groupReply(await need().groups.removeMembers(r.groupId, r.userIds)),
    createChatroom: async (r) => chatroomReply(await need().chatrooms.createChatroom(r.chatroomId, r.at)),
    getChatroom: async (r) => chatroomReply(await need().chatrooms.getChatroom(r.chatroomId)),
    deleteChatroom: async (r) => ({ deleted: await need().chatrooms.deleteChatroom(r.chatroomId) }),
    touchChatrooms: async (r) => {
      await need().chatrooms.touchChatrooms(r.chatroomIds, r.at);
      return {};
    },
    evictIdleChatrooms: async (r) => ({
      chatroomIds: await need().chatrooms.evictIdleChatrooms(r.before),
    }),
  };
}
