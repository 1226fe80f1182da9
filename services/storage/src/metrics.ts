/**
 * The storage service's /metrics (issue item 6):
 *   im_storage_append_seconds{result}   one append (message + every inbox row), queueing for the
 *                                       group commit included: what the message service waits for
 *   im_storage_append_batch_size        appends committed together in one transaction
 *   im_storage_commit_seconds{result}   one group-commit transaction
 */
import type { AppendRequest, AppendResult, MessageStore } from '@im/core';
import { Histogram, type Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

function histogram<L extends string>(
  registry: Registry,
  cfg: { name: string; help: string; buckets: number[]; labelNames?: L[] },
): Histogram<L> {
  const existing = registry.getSingleMetric(cfg.name);
  if (existing) return existing as Histogram<L>;
  return new Histogram<L>({ ...cfg, labelNames: cfg.labelNames ?? [], registers: [registry] });
}

export interface StorageMetrics {
  /** For SqlMessageStoreOptions.onBatch. */
  onBatch(info: { size: number; seconds: number; ok: boolean }): void;
  /** The store served over gRPC, with append timed. */
  instrument(store: MessageStore): MessageStore;
}

export function createStorageMetrics(registry: Registry): StorageMetrics {
  const append = histogram(registry, {
    name: 'im_storage_append_seconds',
    help: 'Inbox append (message and inbox rows, durable), including the wait for its group commit, in seconds.',
    labelNames: ['result'],
    buckets: LATENCY_BUCKETS,
  });
  const batchSize = histogram(registry, {
    name: 'im_storage_append_batch_size',
    help: 'Appends committed in one group-commit transaction.',
    buckets: BATCH_BUCKETS,
  });
  const commit = histogram(registry, {
    name: 'im_storage_commit_seconds',
    help: 'Duration of one group-commit transaction, in seconds.',
    labelNames: ['result'],
    buckets: LATENCY_BUCKETS,
  });
  return {
    onBatch({ size, seconds, ok }) {
      batchSize.observe(size);
      commit.observe({ result: ok ? 'ok' : 'error' }, seconds);
    },
    instrument(store) {
      return {
        async append(req: AppendRequest): Promise<AppendResult> {
          const end = append.startTimer();
          try {
            const res = await store.append(req);
            end({ result: 'ok' });
            return res;
          } catch (err) {
            end({ result: 'error' });
            throw err;
          }
        },
        pull: (userId, since, limit, maxBytes) => store.pull(userId, since, limit, maxBytes),
        history: (userId, conversation, beforeUid, limit, maxBytes) =>
          store.history(userId, conversation, beforeUid, limit, maxBytes),
        head: (userId) => store.head(userId),
        heads: (userIds) => store.heads(userIds),
        get: (uid) => store.get(uid),
        wipe: (uid) => store.wipe(uid),
        close: () => store.close(),
      };
    },
  };
}
