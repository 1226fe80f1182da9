// Entry point of a cluster edge node: `node --import tsx services/edge/src/main.ts`
// (`pnpm --filter @im/edge start`). Any number of them; each reads its own Kafka topic.
// Env (packages/core/src/config.ts ENV_VARS): IM_NODE_ID (else <hostname>-<random>, logged),
// IM_EDGE_HOST / IM_EDGE_PORT (TLS: IM_EDGE_TLS_PORT, IM_TLS_CERT_FILE, IM_TLS_KEY_FILE),
// IM_JWT_SECRET or IM_JWKS_URL / IM_JWKS_FILE, IM_MESSAGE_ADDR, IM_PRESENCE_ADDR, IM_GRPC_DEADLINE_MS,
// KAFKA_BROKERS, IM_KAFKA_TOPIC_PREFIX, IM_DRAIN_GRACE_MS, IM_ADMIN_HOST / IM_ADMIN_PORT
// (/healthz, /readyz, /metrics), the limits of docs/security.md, LOG_LEVEL.
// SIGTERM / SIGINT: /readyz 503, stop accepting, close connections in batches over
// IM_DRAIN_GRACE_MS, close the backends, exit 0 (1 when that failed or took too long).
import { ConfigError, createLogger, loadConfig, setupTracing } from '@im/core';
import { createRegistry } from '@im/rpc';
import { edgeNodeId } from './node-id.js';
import { runEdge } from './process.js';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`configuration error: ${err.message}\n`);
  process.exit(2);
}
const { nodeId, generated } = edgeNodeId(config.nodeId);
config.nodeId = nodeId;
const logger = createLogger('edge', config).child({ nodeId });
// OTEL_* (config.ts tracing): off unless an exporter is set; the last spans are flushed before exit.
const tracing = setupTracing(config.tracing, 'im-edge');
logger.info({ generated }, generated ? 'edge: node id generated (IM_NODE_ID not set)' : 'edge: node id');

// Installed before start: a signal during startup shuts down as soon as the node is up.
let stop: ((signal: NodeJS.Signals) => void) | null = null;
let early: NodeJS.Signals | null = null;
const onSignal = (signal: NodeJS.Signals) => {
  if (stop) stop(signal);
  else early ??= signal;
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

runEdge({ config, nodeId, logger, registry: createRegistry() }).then(
  (proc) => {
    // shutdown() is idempotent: a second signal waits for the same run.
    stop = (signal) =>
      void proc
        .shutdown(signal)
        .then(async (clean) => {
          await tracing.shutdown();
          return clean;
        })
        .then((clean) => process.exit(clean ? 0 : 1));
    if (early) stop(early);
  },
  (err: unknown) => {
    logger.fatal({ err }, 'edge: failed to start');
    process.exit(1);
  },
);
