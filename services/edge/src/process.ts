/**
 * One edge node as a cluster process: the gRPC clients of the message and presence services, its
 * own Kafka topic, the TCP listeners, and the ops endpoints (/healthz, /readyz, /metrics) on
 * config.admin. main.ts calls runEdge once and wires the signals to shutdown().
 *
 * Readiness (/readyz) is this node's own state only: 200 once the bus subscription is up and the
 * listeners accept, 503 before that and from the start of a shutdown. It deliberately does not
 * probe the message or presence services: they are shared by every edge, so a probe would take
 * every edge out of the load balancer at once when one of them blips, and clients get UNAVAILABLE
 * (and retry) from a reachable edge anyway.
 *
 * When a backend is down (issue: Bad input and faults), as decided:
 *   Redis  — LOGIN answers UNAVAILABLE: presence cannot register the route (and decide a kick)
 *            within IM_GRPC_DEADLINE_MS, and a session without a route would get no pushes.
 *            Logged-in connections keep sending: MS is stored and acked (the message service
 *            needs Redis only for fan-out, which logs and drops; recipients pull later). Route
 *            refreshes fail, are logged, and are retried every IM_ROUTE_REFRESH_MS (routes live
 *            IM_ROUTE_TTL_MS, several periods). The message service's uid worker lease survives
 *            an outage of up to its TTL (60 s); past it MS is UNAVAILABLE until Redis is back.
 *   Kafka  — MS is acked once stored; the fan-out publish fails, is logged and dropped; recipients
 *            pull (they get MN/pushes again once Kafka is back). This node's consumer reconnects
 *            by itself (kafkajs restarts a crashed consumer).
 *   gRPC   — a call past IM_GRPC_DEADLINE_MS, or to a service that is down, answers UNAVAILABLE.
 */
import {
  type Config,
  createTokenVerifier,
  HS256_IGNORED_WARNING,
  hs256SecretIgnored,
  KafkaBus,
  type Logger,
  loadServerKeys,
  REPLAY_KEY_PREFIX,
  RedisReplayCache,
  type ServerKeys,
  type TokenVerifier,
} from '@im/core';
import {
  loadGrpcTls,
  MessageClient,
  type OpsServer,
  PresenceClient,
  type Registry,
  startOpsServer,
} from '@im/rpc';
import { createEdge, type Edge } from './edge.js';
import { registerKafkaLag } from './kafka-lag.js';
import { createEdgeMetrics } from './metrics.js';

export interface RunEdgeOptions {
  config: Config;
  nodeId: string;
  logger: Logger;
  registry: Registry;
  /** Default: from config.auth. */
  verifier?: TokenVerifier;
  /** Default: config.serverKey (null: RSA logins are UNSUPPORTED). */
  serverKeys?: ServerKeys | null;
  /** Past the drain grace, closing backends may take this long before shutdown gives up. Default 5000. */
  closeBudgetMs?: number;
}

export interface EdgeProcess {
  readonly nodeId: string;
  readonly port: number;
  readonly tlsPort?: number;
  /** The WebSocket port (protocol.md §1), when IM_EDGE_WS is on. */
  readonly wsPort?: number;
  readonly adminPort: number;
  readonly edge: Edge;
  /**
   * protocol.md §6 Shutdown: /readyz 503, stop accepting, close the connections in batches over
   * config.edge.drainGraceMs, then close the backends. Safe to call twice (same promise); resolves
   * true when clean, false on failure or past drainGraceMs + closeBudgetMs.
   */
  shutdown(reason: string): Promise<boolean>;
}

export const DEFAULT_EDGE_CLOSE_BUDGET_MS = 5_000;

export async function runEdge(opts: RunEdgeOptions): Promise<EdgeProcess> {
  const { config, nodeId, logger, registry } = opts;
  const closeBudgetMs = opts.closeBudgetMs ?? DEFAULT_EDGE_CLOSE_BUDGET_MS;
  const verifier = opts.verifier ?? createTokenVerifier(config.auth);
  if (hs256SecretIgnored(config.auth)) logger.warn(HS256_IGNORED_WARNING);
  const serverKeys = opts.serverKeys !== undefined ? opts.serverKeys : await loadServerKeys(config.serverKey);

  // docs/security.md Internal traffic: mTLS to the services when IM_GRPC_TLS_* are set.
  const clientOpts = { deadlineMs: config.grpc.deadlineMs, tls: loadGrpcTls(config.grpc) };
  const message = new MessageClient(config.grpc.messageAddr, {
    ...clientOpts,
    sends: {
      transport: config.grpc.sendTransport,
      lanes: config.grpc.streams,
      maxInFlight: config.grpc.maxInFlight,
      lingerMs: config.grpc.lingerMs,
    },
  });
  const presence = new PresenceClient(config.grpc.presenceAddr, clientOpts);
  // protocol.md §2 RSA freshness, cluster-wide: a LOGIN replayed on another edge finds the secret.
  // Bounded like an internal call: a Redis that does not answer makes the LOGIN UNAVAILABLE. Only
  // with an RSA key: without one, RSA LOGINs are UNSUPPORTED and nothing is remembered.
  const replay = serverKeys
    ? new RedisReplayCache({
        url: config.redisUrl,
        prefix: `${config.redisPrefix}${REPLAY_KEY_PREFIX}`,
        redisOptions: { commandTimeout: config.grpc.deadlineMs, maxRetriesPerRequest: 1 },
      })
    : undefined;
  const bus = new KafkaBus({
    brokers: config.kafkaBrokers,
    clientId: `im-edge-${nodeId}`,
    topicPrefix: config.kafkaTopicPrefix,
    onHandlerError: (err, node) => logger.error({ err, nodeId: node }, 'delivery handler failed'),
  });

  // The group of a node topic is the topic itself (bus.kafka.ts); reading offsets is an internal call.
  const nodeTopic = bus.nodeTopic(nodeId);
  const kafkaLag = registerKafkaLag(registry, {
    brokers: config.kafkaBrokers,
    topic: nodeTopic,
    groupId: nodeTopic,
    timeoutMs: config.grpc.deadlineMs,
  });

  let edge: Edge | undefined;
  const metrics = createEdgeMetrics(registry, {
    connections: () => edge?.connectionCount ?? 0,
    bytesIn: () => edge?.bytesIn ?? 0,
    bytesOut: () => edge?.bytesOut ?? 0,
  });
  const created = createEdge({
    config,
    nodeId,
    message,
    presence,
    bus,
    verifier,
    logger,
    serverKeys,
    ...(replay ? { replay } : {}),
    metrics,
  });
  edge = created;

  const closeBackends = async () => {
    await Promise.allSettled([
      bus.close(),
      message.close(),
      presence.close(),
      kafkaLag.close(),
      replay?.close(),
    ]);
  };

  let listening = false;
  let draining = false;
  // Up before the bus subscription, so /healthz answers and /readyz says 503 while Kafka is joined.
  let ops: OpsServer;
  try {
    ops = await startOpsServer({
      host: config.admin.host,
      port: config.admin.port,
      registry,
      logger,
      ready: async () => listening && !draining,
    });
  } catch (err) {
    await closeBackends();
    throw err;
  }

  let port: number;
  let tlsPort: number | undefined;
  let wsPort: number | undefined;
  try {
    ({ port, tlsPort, wsPort } = await created.listen());
  } catch (err) {
    await created.close();
    await closeBackends();
    await ops.close();
    throw err;
  }
  listening = true;
  logger.info(
    { port, tlsPort, wsPort, adminPort: ops.port, messageAddr: config.grpc.messageAddr },
    'edge: ready',
  );

  let running: Promise<boolean> | undefined;
  const shutdown = (reason: string): Promise<boolean> => {
    if (running) {
      logger.info({ reason }, 'edge: shutdown already in progress');
      return running;
    }
    draining = true;
    ops.setDraining();
    const graceMs = config.edge.drainGraceMs;
    logger.info({ reason, graceMs, connections: created.connectionCount }, 'edge: shutting down');
    const steps = (async () => {
      await created.drain(graceMs);
      await created.close();
      // Acked messages are durable already; nothing here holds state worth waiting for.
      await closeBackends();
      return true;
    })().catch((err: unknown) => {
      logger.error({ err }, 'edge: shutdown failed');
      return false;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        logger.error({ graceMs, closeBudgetMs }, 'edge: shutdown timed out');
        resolve(false);
      }, graceMs + closeBudgetMs);
    });
    running = Promise.race([steps, timeout]).then(async (clean) => {
      clearTimeout(timer);
      await ops.close();
      logger.info({ clean }, 'edge: stopped');
      return clean;
    });
    return running;
  };

  return {
    nodeId,
    port,
    ...(tlsPort === undefined ? {} : { tlsPort }),
    ...(wsPort === undefined ? {} : { wsPort }),
    adminPort: ops.port,
    edge: created,
    shutdown,
  };
}
