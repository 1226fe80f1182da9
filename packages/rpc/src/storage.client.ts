import type {
  AppendRequest,
  AppendResult,
  Conversation,
  InboxEntry,
  MessageStore,
  PullPage,
  StoredMessage,
} from '@im/core';
import { type AppendItem, type AppendResult as AppendReply, StorageService } from '@im/protocol/internal';
import { BatchChannel, type BatchChannelOptions } from './batch.client.js';
import { type ClientOptions, RpcClient } from './client.js';
import { Coalescer } from './coalesce.js';
import { entryOf, pageOf, storedOf } from './wire.js';

export interface StorageClientOptions extends ClientOptions {
  /** The AppendStream's batching (batch.client.ts). */
  appends?: Omit<BatchChannelOptions, 'deadlineMs'>;
}

/**
 * MessageStore over gRPC: the message service's store in the cluster. Appends of one event-loop
 * turn travel as one AppendBatch over AppendStream (batch.client.ts): one SQL group commit per
 * batch on the storage side. It passes the same MessageStore contract suite as the stores it
 * fronts (test/storage.contract.test.ts).
 */
export class StorageClient implements MessageStore {
  private readonly rpc: RpcClient<typeof StorageService>;
  private readonly appends: BatchChannel<AppendItem, AppendReply>;

  private readonly headsOfTurn = new Coalescer<string, number>((users) => this.heads(users), 0);

  constructor(address: string, opts: StorageClientOptions) {
    this.rpc = new RpcClient(StorageService, address, opts);
    const rpc = this.rpc;
    this.appends = new BatchChannel(
      {
        name: `AppendStream on ${address}`,
        openStream: () => rpc.stream('appendStream'),
        callUnary: () => Promise.reject(new Error('AppendStream has no unary form')),
        failure: (err) => rpc.failure(err, 'AppendStream'),
      },
      { deadlineMs: opts.deadlineMs, ...opts.appends, transport: 'stream' },
    );
  }

  async append(req: AppendRequest): Promise<AppendResult> {
    const r = await this.appends.call({
      message: req.message,
      inboxUsers: req.inboxUsers,
      traceparent: req.traceparent ?? '',
    });
    const seqs = new Map<string, number>();
    if (r.duplicate) seqs.set(req.message.from, r.seqs[0] ?? 0);
    else for (const [i, u] of req.inboxUsers.entries()) seqs.set(u, r.seqs[i] ?? 0);
    return { uid: r.uid, serverTime: r.serverTime, seqs, duplicate: r.duplicate };
  }

  async pull(userId: string, since: number, limit: number, maxBytes?: number): Promise<PullPage> {
    return pageOf(await this.rpc.call('pull', { userId, since, limit, maxBytes: maxBytes ?? 0 }));
  }

  async history(
    userId: string,
    conversation: Conversation,
    beforeUid: bigint,
    limit: number,
    maxBytes?: number,
  ): Promise<InboxEntry[]> {
    const res = await this.rpc.call('history', {
      userId,
      conversation,
      beforeUid,
      limit,
      maxBytes: maxBytes ?? 0,
    });
    return res.entries.map(entryOf);
  }

  /** Coalesced: the heads asked for in one turn (logins) travel as one `heads` call. */
  head(userId: string): Promise<number> {
    return this.headsOfTurn.get(userId);
  }

  async heads(userIds: string[]): Promise<Map<string, number>> {
    const { heads } = await this.rpc.call('heads', { userIds });
    return new Map(userIds.map((u, i) => [u, heads[i] ?? 0]));
  }

  async get(uid: bigint): Promise<StoredMessage | null> {
    const res = await this.rpc.call('get', { uid });
    return res.found ? storedOf(res.message) : null;
  }

  async wipe(uid: bigint): Promise<boolean> {
    return (await this.rpc.call('wipe', { uid })).wiped;
  }

  /** Whether the storage service can be reached within timeoutMs (readiness). */
  ready(timeoutMs?: number): Promise<boolean> {
    return this.rpc.ready(timeoutMs);
  }

  /** Closes this client's channel; the remote store stays up (it belongs to the storage service). */
  async close(): Promise<void> {
    this.appends.close();
    this.rpc.close();
  }
}
