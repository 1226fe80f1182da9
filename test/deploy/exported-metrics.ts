/**
 * The metric names the services export TODAY, from their own registration code (not a list kept by
 * hand): every metrics module registered into one registry, the way each process does at start.
 * Histograms expand to their _bucket, _sum and _count series.
 */
import type { DeliveryBus, MessageApi } from '../../packages/core/src/index.js';
import { grpcServerDuration } from '../../packages/rpc/src/metrics.js';
import { createRegistry } from '../../packages/rpc/src/process.js';
import { registerKafkaLag } from '../../services/edge/src/kafka-lag.js';
import { createEdgeMetrics } from '../../services/edge/src/metrics.js';
import { registerFanoutMetrics } from '../../services/message/src/fanout-metrics.js';
import { instrumentBus, instrumentMessageApi } from '../../services/message/src/metrics.js';
import { createStorageMetrics } from '../../services/storage/src/metrics.js';

export async function exportedMetricNames(): Promise<Set<string>> {
  const registry = createRegistry(); // the process defaults (process_*, nodejs_*) included
  createEdgeMetrics(registry, { connections: () => 0, bytesIn: () => 0, bytesOut: () => 0 });
  // Never read here: only registered (no Kafka is contacted until a scrape).
  const lag = registerKafkaLag(registry, {
    brokers: ['127.0.0.1:1'],
    topic: 't',
    groupId: 't',
    timeoutMs: 1,
  });
  registerFanoutMetrics(registry, () => ({ queued: 0, dropped: 0 }));
  instrumentBus({} as DeliveryBus, registry);
  instrumentMessageApi({} as MessageApi, registry);
  createStorageMetrics(registry);
  grpcServerDuration(registry);
  await lag.close();
  const names = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    if (String(m.type) === 'histogram')
      for (const s of ['_bucket', '_sum', '_count']) names.add(`${m.name}${s}`);
    else names.add(m.name);
  }
  return names;
}

/** The metric names a PromQL expression reads (those of this project and of prom-client's defaults). */
export function metricsIn(expr: string): string[] {
  return [...new Set(expr.match(/\b(?:im|nodejs|process)_[a-z0-9_]+\b/g) ?? [])];
}
