import type {
  AppendRequest,
  AppendResult,
  Conversation,
  InboxEntry,
  MessageStore,
  PullPage,
  StoredMessage,
} from '@im/core';
import { type ClientOptions, RpcClient } from './client.js';
import { conversationToWire, entryFromWire, pageFromWire, storedFromWire, storedToWire } from './convert.js';
import { StorageService } from './gen/services.js';
import { numFromU64, numToU64, toU64 } from './long.js';

/**
 * MessageStore over gRPC: the message service's store in the cluster. It passes the same
 * MessageStore contract suite as the stores it fronts (test/storage.contract.test.ts).
 */
export class StorageClient implements MessageStore {
  private readonly rpc: RpcClient<typeof StorageService>;

  constructor(address: string, opts: ClientOptions) {
    this.rpc = new RpcClient(StorageService, address, opts);
  }

  async append(req: AppendRequest): Promise<AppendResult> {
    const res = await this.rpc.call('append', {
      message: storedToWire(req.message),
      inboxUsers: req.inboxUsers,
    });
    const seqs = new Map<string, number>();
    for (const s of res.seqs ?? []) seqs.set(s.userId ?? '', numFromU64(s.seq, 'InboxSeq.seq'));
    return { message: storedFromWire(res.message), seqs, duplicate: res.duplicate ?? false };
  }

  async pull(userId: string, since: number, limit: number): Promise<PullPage> {
    const res = await this.rpc.call('pull', { userId, since: numToU64(since, 'since'), limit });
    return pageFromWire(res);
  }

  async history(
    userId: string,
    conversation: Conversation,
    beforeUid: bigint,
    limit: number,
  ): Promise<InboxEntry[]> {
    const res = await this.rpc.call('history', {
      userId,
      conversation: conversationToWire(conversation),
      beforeUid: toU64(beforeUid, 'beforeUid'),
      limit,
    });
    return (res.entries ?? []).map(entryFromWire);
  }

  async head(userId: string): Promise<number> {
    const res = await this.rpc.call('head', { userId });
    return numFromU64(res.head, 'HeadReply.head');
  }

  async get(uid: bigint): Promise<StoredMessage | null> {
    const res = await this.rpc.call('get', { uid: toU64(uid, 'uid') });
    return res.found ? storedFromWire(res.message) : null;
  }

  async wipe(uid: bigint): Promise<boolean> {
    const res = await this.rpc.call('wipe', { uid: toU64(uid, 'uid') });
    return res.wiped ?? false;
  }

  /** Whether the storage service can be reached within timeoutMs (readiness). */
  ready(timeoutMs?: number): Promise<boolean> {
    return this.rpc.ready(timeoutMs);
  }

  /** Closes this client's channel; the remote store stays up (it belongs to the storage service). */
  async close(): Promise<void> {
    this.rpc.close();
  }
}
