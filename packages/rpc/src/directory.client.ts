import type { Chatroom, ChatroomDirectory, Group, GroupAdmin } from '@im/core';
import { StorageService } from '@im/protocol/internal';
import { type ClientOptions, RpcClient } from './client.js';
import { chatroomOf, groupOf } from './directory.server.js';

/**
 * GroupAdmin over gRPC (the storage service's SQL directory): the message service reads members
 * through it on every group send (no cache: a member change applies to the next message), the
 * admin API manages groups through it.
 */
export class GroupDirectoryClient implements GroupAdmin {
  private readonly rpc: RpcClient<typeof StorageService>;

  constructor(address: string, opts: ClientOptions) {
    this.rpc = new RpcClient(StorageService, address, opts);
  }

  async members(groupId: string): Promise<string[] | null> {
    const res = await this.rpc.call('groupMembers', { groupId });
    return res.found ? res.members : null;
  }

  async createGroup(groupId: string, members: string[]): Promise<Group | null> {
    return groupOf(await this.rpc.call('createGroup', { groupId, userIds: members }));
  }

  async getGroup(groupId: string): Promise<Group | null> {
    return groupOf(await this.rpc.call('getGroup', { groupId }));
  }

  async deleteGroup(groupId: string): Promise<boolean> {
    return (await this.rpc.call('deleteGroup', { groupId })).deleted;
  }

  async addMembers(groupId: string, userIds: string[]): Promise<Group | null> {
    return groupOf(await this.rpc.call('addGroupMembers', { groupId, userIds }));
  }

  async removeMembers(groupId: string, userIds: string[]): Promise<Group | null> {
    return groupOf(await this.rpc.call('removeGroupMembers', { groupId, userIds }));
  }

  ready(timeoutMs?: number): Promise<boolean> {
    return this.rpc.ready(timeoutMs);
  }

  async close(): Promise<void> {
    this.rpc.close();
  }
}

/** ChatroomDirectory over gRPC (the storage service's SQL table). */
export class ChatroomDirectoryClient implements ChatroomDirectory {
  private readonly rpc: RpcClient<typeof StorageService>;

  constructor(address: string, opts: ClientOptions) {
    this.rpc = new RpcClient(StorageService, address, opts);
  }

  async createChatroom(chatroomId: string, at: number): Promise<Chatroom | null> {
    return chatroomOf(await this.rpc.call('createChatroom', { chatroomId, at }));
  }

  async getChatroom(chatroomId: string): Promise<Chatroom | null> {
    return chatroomOf(await this.rpc.call('getChatroom', { chatroomId }));
  }

  async deleteChatroom(chatroomId: string): Promise<boolean> {
    return (await this.rpc.call('deleteChatroom', { chatroomId })).deleted;
  }

  async touchChatrooms(chatroomIds: string[], at: number): Promise<void> {
    await this.rpc.call('touchChatrooms', { chatroomIds, at });
  }

  async evictIdleChatrooms(before: number): Promise<string[]> {
    const res = await this.rpc.call('evictIdleChatrooms', { before });
    return res.chatroomIds;
  }

  ready(timeoutMs?: number): Promise<boolean> {
    return this.rpc.ready(timeoutMs);
  }

  async close(): Promise<void> {
    this.rpc.close();
  }
}
