import type { Chatroom, ChatroomDirectory, Group, GroupAdmin } from '@im/core';
import { ImError, Status } from '@im/protocol';
import type { im } from './gen/internal.js';
import type { StorageService } from './gen/services.js';
import { numFromI64, numToI64 } from './long.js';
import type { Handlers } from './spec.js';

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

export type DirectoryHandlers = Pick<Handlers<typeof StorageService>, DirectoryMethods>;

export function groupToWire(g: Group | null): im.internal.GroupReply.$Properties {
  if (!g) return { found: false };
  return {
    found: true,
    group: { id: g.id, members: g.members, createdAt: numToI64(g.createdAt, 'Group.createdAt') },
  };
}

export function groupFromWire(r: im.internal.GroupReply.$Properties): Group | null {
  if (!r.found) return null;
  return {
    id: r.group?.id ?? '',
    members: [...(r.group?.members ?? [])],
    createdAt: numFromI64(r.group?.createdAt, 'Group.createdAt'),
  };
}

export function chatroomToWire(c: Chatroom | null): im.internal.ChatroomReply.$Properties {
  if (!c) return { found: false };
  return {
    found: true,
    chatroom: {
      id: c.id,
      createdAt: numToI64(c.createdAt, 'Chatroom.createdAt'),
      lastActiveAt: numToI64(c.lastActiveAt, 'Chatroom.lastActiveAt'),
    },
  };
}

export function chatroomFromWire(r: im.internal.ChatroomReply.$Properties): Chatroom | null {
  if (!r.found) return null;
  return {
    id: r.chatroom?.id ?? '',
    createdAt: numFromI64(r.chatroom?.createdAt, 'Chatroom.createdAt'),
    lastActiveAt: numFromI64(r.chatroom?.lastActiveAt, 'Chatroom.lastActiveAt'),
  };
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
      const members = await need().groups.members(r.groupId ?? '');
      return members === null ? { found: false } : { found: true, members };
    },
    createGroup: async (r) => groupToWire(await need().groups.createGroup(r.groupId ?? '', r.userIds ?? [])),
    getGroup: async (r) => groupToWire(await need().groups.getGroup(r.groupId ?? '')),
    deleteGroup: async (r) => ({ deleted: await need().groups.deleteGroup(r.groupId ?? '') }),
    addGroupMembers: async (r) =>
      groupToWire(await need().groups.addMembers(r.groupId ?? '', r.userIds ?? [])),
    removeGroupMembers: async (r) =>
      groupToWire(await need().groups.removeMembers(r.groupId ?? '', r.userIds ?? [])),
    createChatroom: async (r) =>
      chatroomToWire(
        await need().chatrooms.createChatroom(r.chatroomId ?? '', numFromI64(r.at, 'ChatroomAtCall.at')),
      ),
    getChatroom: async (r) => chatroomToWire(await need().chatrooms.getChatroom(r.chatroomId ?? '')),
    deleteChatroom: async (r) => ({ deleted: await need().chatrooms.deleteChatroom(r.chatroomId ?? '') }),
    touchChatrooms: async (r) => {
      await need().chatrooms.touchChatrooms(r.chatroomIds ?? [], numFromI64(r.at, 'TouchChatroomsCall.at'));
      return {};
    },
    evictIdleChatrooms: async (r) => ({
      chatroomIds: await need().chatrooms.evictIdleChatrooms(numFromI64(r.before, 'EvictIdleCall.before')),
    }),
  };
}
