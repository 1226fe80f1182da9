import type { MessageStore } from '@im/core';
import { conversationFromWire, entryToWire, pageToWire, storedFromWire, storedToWire } from './convert.js';
import { directoryHandlers, type StorageDirectories } from './directory.server.js';
import { StorageService } from './gen/services.js';
import { fromU64, numFromU64, numToU64 } from './long.js';
import { type RpcServer, type ServeOptions, startRpcServer } from './server.js';

/**
 * Serves a MessageStore (PostgreSQL in the cluster) as im.internal.StorageService, with the group
 * and chatroom directories of the same database when given. close() of the returned server stops
 * serving only; the store is closed by its owner.
 */
export function serveStorage(
  impl: MessageStore,
  opts: ServeOptions,
  directories?: StorageDirectories,
): Promise<RpcServer> {
  return startRpcServer(
    StorageService,
    {
      append: async (r) => {
        const res = await impl.append({ message: storedFromWire(r.message), inboxUsers: r.inboxUsers ?? [] });
        return {
          message: storedToWire(res.message),
          seqs: [...res.seqs].map(([userId, seq]) => ({ userId, seq: numToU64(seq, 'InboxSeq.seq') })),
          duplicate: res.duplicate,
        };
      },
      pull: async (r) =>
        pageToWire(await impl.pull(r.userId ?? '', numFromU64(r.since, 'StorePullCall.since'), r.limit ?? 0)),
      history: async (r) => {
        const entries = await impl.history(
          r.userId ?? '',
          conversationFromWire(r.conversation),
          fromU64(r.beforeUid),
          r.limit ?? 0,
        );
        return { entries: entries.map(entryToWire) };
      },
      head: async (r) => ({ head: numToU64(await impl.head(r.userId ?? ''), 'HeadReply.head') }),
      get: async (r) => {
        const m = await impl.get(fromU64(r.uid));
        return m === null ? { found: false } : { found: true, message: storedToWire(m) };
      },
      wipe: async (r) => ({ wiped: await impl.wipe(fromU64(r.uid)) }),
      ...directoryHandlers(directories),
    },
    opts,
  );
}
