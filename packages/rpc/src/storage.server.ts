import { endSpan, type MessageStore, SpanKind, startSpan, tracing } from '@im/core';
import { type AppendItem, type AppendResult, StorageService } from '@im/protocol/internal';
import { type BatchServeOptions, batchStreamHandler } from './batch.server.js';
import { directoryHandlers, type StorageDirectories } from './directory.server.js';
import { type RpcServer, type ServeOptions, startRpcServer } from './server.js';
import { conversationOf, storedOf } from './wire.js';

export interface StorageServeOptions extends ServeOptions {
  /** Batches of AppendStream (metrics). */
  onAppendBatch?: BatchServeOptions['onBatch'];
}

/**
 * Serves a MessageStore (PostgreSQL in the cluster) as im.internal.StorageService, with the group
 * and chatroom directories of the same database when given. close() of the returned server stops
 * serving only; the store is closed by its owner.
 */
export function serveStorage(
  impl: MessageStore,
  opts: StorageServeOptions,
  directories?: StorageDirectories,
): Promise<RpcServer> {
  return startRpcServer(
    StorageService,
    {
      appendStream: batchStreamHandler<AppendItem, AppendResult>(
        async (item) => {
          const message = storedOf(item.message);
          // core tracing.ts: a span only for an item whose trace was sampled at the edge.
          const span =
            item.traceparent && tracing.on
              ? startSpan('im.storage.append', SpanKind.SERVER, item.traceparent, {
                  'im.inbox_users': item.inboxUsers.length,
                })
              : undefined;
          let res: Awaited<ReturnType<MessageStore['append']>>;
          try {
            res = await impl.append({ message, inboxUsers: item.inboxUsers });
          } catch (err) {
            endSpan(span, err);
            throw err;
          }
          endSpan(span);
          // AppendResult carries no echo of the message: the seqs in the item's user order.
          const seqs = res.duplicate
            ? [res.seqs.get(message.from) ?? 0]
            : item.inboxUsers.map((u) => res.seqs.get(u) ?? 0);
          return { uid: res.uid, serverTime: res.serverTime, seqs, duplicate: res.duplicate };
        },
        {
          service: StorageService.name,
          method: 'AppendStream',
          ...(opts.logger ? { logger: opts.logger } : {}),
          ...(opts.registry ? { registry: opts.registry } : {}),
          ...(opts.onAppendBatch ? { onBatch: opts.onAppendBatch } : {}),
        },
      ),
      // maxBytes 0: none (ports.ts MessageStore.pull).
      pull: async (r) => impl.pull(r.userId, r.since, r.limit, r.maxBytes || undefined),
      history: async (r) => ({
        entries: await impl.history(
          r.userId,
          conversationOf(r.conversation),
          r.beforeUid,
          r.limit,
          r.maxBytes || undefined,
        ),
      }),
      head: async (r) => ({ head: await impl.head(r.userId) }),
      heads: async (r) => {
        const heads = await impl.heads(r.userIds);
        return { heads: r.userIds.map((u) => heads.get(u) ?? 0) };
      },
      get: async (r) => {
        const m = await impl.get(r.uid);
        return m === null ? { found: false } : { found: true, message: m };
      },
      wipe: async (r) => ({ wiped: await impl.wipe(r.uid) }),
      ...directoryHandlers(directories),
    },
    opts,
  );
}
