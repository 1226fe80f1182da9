/**
 * The TCP edge of one node: accepts connections, subscribes to the delivery bus for its nodeId,
 * refreshes the TTL of its routes in one batch every config.edge.routeRefreshMs, and shuts down
 * gradually (protocol.md §6 Shutdown, Heartbeat). It only knows the api/ports interfaces, never a
 * concrete backend.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type {
  Config,
  DeliveryBus,
  MessageApi,
  PresenceApi,
  Route,
  Subscription,
  TokenVerifier,
} from '@im/core';
import { Connection } from './connection.js';
import type { EdgeContext, EdgeLogger } from './context.js';
import { createDeliveryHandler } from './deliveries.js';
import { KickMemo } from './kick-memo.js';
import { Registry } from './registry.js';

export interface EdgeOptions {
  config: Config;
  nodeId: string;
  message: MessageApi;
  presence: PresenceApi;
  bus: DeliveryBus;
  verifier: TokenVerifier;
  logger: EdgeLogger;
}

export interface Edge {
  /** Subscribes to the bus, then listens on config.edge.host:port (0 = any free port). */
  listen(): Promise<{ port: number }>;
  /**
   * protocol.md §6 Shutdown: stop accepting, then close the connections in batches spread over
   * graceMs (default config.edge.drainGraceMs), so clients reconnect elsewhere without a herd.
   */
  drain(graceMs?: number): Promise<void>;
  /** Stops everything at once (connections closed, routes removed, bus unsubscribed). Idempotent. */
  close(): Promise<void>;
  /** Open sockets, logged in or not. */
  readonly connectionCount: number;
}

/** Drain closes connections in this many batches over the grace period. */
const DRAIN_BATCHES = 10;
/** close() waits at most this long for route removals and chatroom leaves of closed connections. */
const CLEANUP_WAIT_MS = 3_000;

export function createEdge(opts: EdgeOptions): Edge {
  const { config, nodeId, bus, presence, logger } = opts;
  /** Every open socket, with a promise of its 'close'. */
  const connections = new Map<Connection, Promise<void>>();
  const cleanups = new Set<Promise<void>>();
  const ctx: EdgeContext = {
    config,
    nodeId,
    message: opts.message,
    presence,
    verifier: opts.verifier,
    logger,
    registry: new Registry<Connection>(),
    kicks: new KickMemo(),
    track(cleanup) {
      cleanups.add(cleanup);
      void cleanup.finally(() => cleanups.delete(cleanup));
    },
  };

  let server: Server | null = null;
  let subscription: Subscription | null = null;
  let refreshTimer: NodeJS.Timeout | null = null;
  let refreshing = false;
  let accepting = false;
  let closed: Promise<void> | null = null;

  const onSocket = (socket: Socket) => {
    if (!accepting) {
      socket.destroy();
      return;
    }
    const conn = new Connection(ctx, socket);
    connections.set(
      conn,
      new Promise<void>((resolve) =>
        socket.once('close', () => {
          connections.delete(conn);
          resolve();
        }),
      ),
    );
  };

  /** protocol.md §6 Heartbeat: routes of this node are kept alive in ONE batch per period. */
  const refreshRoutes = async () => {
    if (refreshing) return;
    const routes: Route[] = [];
    for (const c of ctx.registry.all()) {
      if (c.loggedIn && !c.closing) {
        routes.push({ userId: c.userId, deviceId: c.deviceId, nodeId, epoch: c.epoch, platform: c.platform });
      }
    }
    if (routes.length === 0) return;
    refreshing = true;
    try {
      await presence.heartbeat(routes);
    } catch (err) {
      logger.warn({ err: String(err), routes: routes.length }, 'route refresh failed');
    } finally {
      refreshing = false;
    }
  };

  const stopAccepting = () => {
    accepting = false;
    server?.close();
    if (refreshTimer) clearInterval(refreshTimer);
    refreshTimer = null;
  };

  return {
    async listen() {
      if (server) throw new Error('edge is already listening');
      subscription = await bus.subscribe(nodeId, createDeliveryHandler(ctx));
      const srv = createServer({ noDelay: true }, onSocket);
      server = srv;
      srv.on('error', (err) => logger.error({ err }, 'edge listener error'));
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(config.edge.port, config.edge.host, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      accepting = true;
      refreshTimer = setInterval(() => void refreshRoutes(), config.edge.routeRefreshMs);
      refreshTimer.unref();
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : config.edge.port;
      logger.info({ nodeId, host: config.edge.host, port }, 'edge listening');
      return { port };
    },

    async drain(graceMs = config.edge.drainGraceMs) {
      stopAccepting();
      const all = [...connections.keys()];
      logger.info({ connections: all.length, graceMs }, 'edge draining');
      const perBatch = Math.max(1, Math.ceil(all.length / DRAIN_BATCHES));
      const pause = all.length > perBatch ? graceMs / Math.ceil(all.length / perBatch) : 0;
      for (let i = 0; i < all.length; i += perBatch) {
        for (const c of all.slice(i, i + perBatch)) c.end();
        if (i + perBatch < all.length && pause > 0) await sleep(pause);
      }
    },

    close() {
      closed ??= (async () => {
        stopAccepting();
        const sockets = [...connections.values()];
        for (const c of connections.keys()) c.destroy();
        // Each socket's 'close' starts its cleanup (route removal, chatroom leaves); wait for both, bounded.
        const settled = (async () => {
          await Promise.all(sockets);
          await Promise.allSettled([...cleanups]);
        })();
        await Promise.race([settled, sleep(CLEANUP_WAIT_MS)]);
        await subscription
          ?.close()
          .catch((err) => logger.warn({ err: String(err) }, 'bus unsubscribe failed'));
        logger.info({ nodeId }, 'edge closed');
      })();
      return closed;
    },

    get connectionCount() {
      return connections.size;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
