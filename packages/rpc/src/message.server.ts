import type { MessageApi } from '@im/core';
import { MessageService, type SendItem, type SendResult } from '@im/protocol/internal';
import {
  type BatchServeOptions,
  batchStreamHandler,
  batchUnaryHandler,
  type ItemHandler,
} from './batch.server.js';
import { type RpcServer, type ServeOptions, startRpcServer } from './server.js';
import { callerOf } from './wire.js';

export interface MessageServeOptions extends ServeOptions {
  /** Batches of SendStream / SendBatch (metrics). */
  onSendBatch?: BatchServeOptions['onBatch'];
}

const EMPTY = new Uint8Array(0);

/** Serves a MessageApi (the message service) as im.internal.MessageService. */
export function serveMessage(impl: MessageApi, opts: MessageServeOptions): Promise<RpcServer> {
  const send: ItemHandler<SendItem, SendResult> = async (item) => ({
    ack: await impl.send(
      callerOf(item.caller),
      item.message ?? EMPTY,
      // Per item: each MS of a batch has its own trace, when sampled (core tracing.ts).
      item.traceparent ? { e2e: item.e2e, traceparent: item.traceparent } : { e2e: item.e2e },
    ),
  });
  const batch = (method: string): BatchServeOptions => ({
    service: MessageService.name,
    method,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.registry ? { registry: opts.registry } : {}),
    ...(opts.onSendBatch ? { onBatch: opts.onSendBatch } : {}),
  });
  return startRpcServer(
    MessageService,
    {
      sendStream: batchStreamHandler(send, batch('SendStream')),
      sendBatch: batchUnaryHandler(send, batch('SendBatch')),
      pull: async (r) => impl.pull(callerOf(r.caller), r.request ?? { since: 0, limit: 0, beforeUid: 0n }),
      recall: async (r) => {
        await impl.recall(callerOf(r.caller), r.messageUid);
        return {};
      },
      head: async (r) => ({ head: await impl.head(r.userId) }),
      heads: async (r) => {
        const heads = await impl.heads(r.userIds);
        return { heads: r.userIds.map((u) => heads.get(u) ?? 0) };
      },
      joinChatroom: async (r) => {
        await impl.joinChatroom(callerOf(r.caller), r.chatroomId);
        return {};
      },
      quitChatroom: async (r) => {
        await impl.quitChatroom(callerOf(r.caller), r.chatroomId);
        return {};
      },
      chatroomHeartbeat: async (r) => {
        await impl.chatroomHeartbeat(r.nodeId, r.chatroomIds);
        return {};
      },
    },
    opts,
  );
}
