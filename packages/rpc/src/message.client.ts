import type { Caller, MessageApi, SendOptions } from '@im/core';
import type { Message, PullRequest, PullResponse, SendAck } from '@im/protocol';
import { type ClientOptions, RpcClient } from './client.js';
import {
  callerToWire,
  messageToWire,
  pullRequestToWire,
  pullResponseFromWire,
  sendAckFromWire,
} from './convert.js';
import { MessageService } from './gen/services.js';
import { numFromU64, toU64 } from './long.js';

/** MessageApi over gRPC: what an edge node uses in the cluster (api.ts). */
export class MessageClient implements MessageApi {
  private readonly rpc: RpcClient<typeof MessageService>;

  constructor(address: string, opts: ClientOptions) {
    this.rpc = new RpcClient(MessageService, address, opts);
  }

  async send(caller: Caller, message: Message, opts: SendOptions): Promise<SendAck> {
    const ack = await this.rpc.call('send', {
      caller: callerToWire(caller),
      message: messageToWire(message),
      e2e: opts.e2e,
    });
    return sendAckFromWire(ack);
  }

  async pull(caller: Caller, req: PullRequest): Promise<PullResponse> {
    const res = await this.rpc.call('pull', {
      caller: callerToWire(caller),
      request: pullRequestToWire(req),
    });
    return pullResponseFromWire(res);
  }

  async recall(caller: Caller, messageUid: bigint): Promise<void> {
    await this.rpc.call('recall', {
      caller: callerToWire(caller),
      messageUid: toU64(messageUid, 'messageUid'),
    });
  }

  async head(userId: string): Promise<number> {
    const res = await this.rpc.call('head', { userId });
    return numFromU64(res.head, 'HeadReply.head');
  }

  async joinChatroom(caller: Caller, chatroomId: string): Promise<void> {
    await this.rpc.call('joinChatroom', { caller: callerToWire(caller), chatroomId });
  }

  async quitChatroom(caller: Caller, chatroomId: string): Promise<void> {
    await this.rpc.call('quitChatroom', { caller: callerToWire(caller), chatroomId });
  }

  async chatroomHeartbeat(nodeId: string, chatroomIds: string[]): Promise<void> {
    await this.rpc.call('chatroomHeartbeat', { nodeId, chatroomIds });
  }

  /** Whether the message service can be reached within timeoutMs (readiness). */
  ready(timeoutMs?: number): Promise<boolean> {
    return this.rpc.ready(timeoutMs);
  }

  async close(): Promise<void> {
    this.rpc.close();
  }
}
