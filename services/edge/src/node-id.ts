import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A node id is this edge's Kafka delivery address (`<prefix>deliver.<nodeId>`): topic-safe characters only. */
const TOPIC_SAFE = /[^A-Za-z0-9._-]+/g;

/**
 * IM_NODE_ID when set, else `<hostname>-<random>`: unique per process, so two edges on one host
 * (or a restarted pod that reuses its hostname) never read each other's deliveries. A generated id
 * gets a fresh topic; the old one, once its consumer group has stayed empty for IM_JANITOR_GRACE_MS,
 * is deleted by the presence service's janitor (packages/core bus/kafka-janitor.ts).
 */
export function edgeNodeId(configured: string, host = hostname()): { nodeId: string; generated: boolean } {
  if (configured) return { nodeId: configured, generated: false };
  const base =
    host
      .replace(TOPIC_SAFE, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'edge';
  return { nodeId: `${base}-${randomBytes(4).toString('hex')}`, generated: true };
}
