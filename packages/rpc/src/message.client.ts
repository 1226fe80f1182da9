import type { Caller, MessageApi, SendOptions } from '@im/core';
import type { PullRequest, PullResponse, SendAck } from '@im/protocol';
import { MessageService, type SendItem, type SendResult } from '@im/protocol/internal';
import { BatchChannel, type BatchChannelOptions } from './batch.client.js';
import { type ClientOptions, RpcClient } from './client.js';
import { Coalescer } from './coalesce.js';

export interface MessageClientOptions extends ClientOptions {
  /** How MS travel (config.grpc.sendTransport); the batching of batch.client.ts either way. */
  sends?: Omit<BatchChannelOptions, 'deadlineMs'>;
}

/**
 * MessageApi over gRPC: what an edge node uses in the cluster (api.ts). Sends are batched per
 * event-loop turn over SendStream (batch.client.ts); a connection's sends always take the same
 * stream (affinity by user and device), so its messages reach the message service, and are fanned
 * out, in the order they were acked. The other calls are unary.
 */
export class MessageClient implements MessageApi {
  private readonly rpc: RpcClient<typeof MessageService>;
  private readonly sends: BatchChannel<SendItem, SendResult>;

  private readonly headsOfTurn = new Coalescer<string, number>((users) => this.heads(users), 0);

  constructor(address: string, opts: MessageClientOptions) {
    this.rpc = new RpcClient(MessageService, address, opts);
    const rpc = this.rpc;
    this.sends = new BatchChannel(
      {
        name: `SendStream on ${address}`,
        openStream: () => rpc.stream('sendStream'),
        callUnary: (batch, deadlineMs) => rpc.call('sendBatch', batch, deadlineMs),
        failure: (err) => rpc.failure(err, 'SendStream'),
      },
      { deadlineMs: opts.deadlineMs, ...opts.sends },
    );
  }

  async send(caller: Caller, body: Uint8Array, opts: SendOptions): Promise<SendAck> {
    const r = await this.sends.call(
      { caller, message: body, e2e: opts.e2e, traceparent: opts.traceparent ?? '' },
      affinity(caller),
    );
    return r.ack ?? { messageUid: 0n, serverTime: 0, seq: 0 };
  }

  async pull(caller: Caller, req: PullRequest): Promise<PullResponse> {
    return this.rpc.call('pull', { caller, request: req });
  }

  async recall(caller: Caller, messageUid: bigint): Promise<void> {
    await this.rpc.call('recall', { caller, messageUid });
  }

  /** Coalesced: the heads asked for in one turn (logins) travel as one `heads` call. */
  head(userId: string): Promise<number> {
    return this.headsOfTurn.get(userId);
  }

  async heads(userIds: string[]): Promise<Map<string, number>> {
    const { heads } = await this.rpc.call('heads', { userIds });
    return new Map(userIds.map((u, i) => [u, heads[i] ?? 0]));
  }

  async joinChatroom(caller: Caller, chatroomId: string): Promise<void> {
    await this.rpc.call('joinChatroom', { caller, chatroomId });
  }

  async quitChatroom(caller: Caller, chatroomId: string): Promise<void> {
    await this.rpc.call('quitChatroom', { caller, chatroomId });
  }

  async chatroomHeartbeat(nodeId: string, chatroomIds: string[]): Promise<void> {
    await this.rpc.call('chatroomHeartbeat', { nodeId, chatroomIds });
  }

  /** Sends without a result yet (metrics, tests). */
  get sendsInFlight(): number {
    return this.sends.inFlight;
  }

  /** Whether the message service can be reached within timeoutMs (readiness). */
  ready(timeoutMs?: number): Promise<boolean> {
    return this.rpc.ready(timeoutMs);
  }

  async close(): Promise<void> {
    this.sends.close();
    this.rpc.close();
  }
}

/** One connection (user, device) → always the same stream. */
function affinity(c: Caller): number {
  let h = 0x811c9dc5;
  for (const s of [c.userId, c.deviceId]) {
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  return h >>> 0;
}
