/**
 * The TCP edge of one node: accepts connections, subscribes to the delivery bus for its nodeId,
 * refreshes the TTL of its routes in one batch every config.edge.routeRefreshMs, and shuts down
 * gradually (protocol.md §6 Shutdown, Heartbeat). It only knows the api/ports interfaces, never a
 * concrete backend.
 */
import {
  type Config,
  type Delivery,
  type DeliveryBus,
  lostChatrooms,
  MemoryReplayCache,
  type MessageApi,
  type PresenceApi,
  type ReplayCache,
  type Route,
  type ServerKeys,
  type Subscription,
  type TokenVerifier,
} from '@im/core';
import { Command, codec, Status } from '@im/protocol';
import { Connection } from './connection.js';
import type { EdgeContext, EdgeLogger } from './context.js';
import { createDeliveryHandler } from './deliveries.js';
import { drainPlan } from './drain-plan.js';
import { HeadSync } from './head-sync.js';
import { KickMemo } from './kick-memo.js';
import { IpGuard } from './limits/ip-guard.js';
import { type Listening, openListeners } from './listeners.js';
import { type EdgeMetrics, NOOP_EDGE_METRICS } from './metrics.js';
import { Registry } from './registry.js';
import { LocalRooms } from './rooms.js';
import { rejoiner } from './rooms-rejoin.js';
import type { ClientTransport } from './transport.js';

export interface EdgeOptions {
  config: Config;
  nodeId: string;
  message: MessageApi;
  presence: PresenceApi;
  bus: DeliveryBus;
  verifier: TokenVerifier;
  logger: EdgeLogger;
  /** RSA key pair for RSA (2) logins (protocol.md §2); absent: RSA is UNSUPPORTED. */
  serverKeys?: ServerKeys | null;
  /**
   * Where RSA LOGINs' wrapped secrets are remembered (protocol.md §2 RSA freshness): shared by every
   * edge of a cluster (Redis). Default: this process's memory (embedded mode); closed by its owner.
   */
  replay?: ReplayCache;
  /** /metrics hooks (metrics.ts createEdgeMetrics); default: none. */
  metrics?: EdgeMetrics;
}

export interface Edge {
  /**
   * Subscribes to the bus, then listens on config.edge.host:port (0 = any free port), when TLS is
   * configured on edge.tlsPort, and with edge.ws on edge.wsPort (WebSocket). `port` is the plain
   * port, else the TLS port, else the WebSocket port.
   */
  listen(): Promise<{ port: number; tlsPort?: number; wsPort?: number }>;
  /**
   * protocol.md §6 Shutdown: stop accepting, then close the connections in batches spread over
   * graceMs (default config.edge.drainGraceMs), each after a LOGOUT notify with UNAVAILABLE and a
   * retryAfterMs (drain-plan.ts), so clients reconnect elsewhere without a herd.
   */
  drain(graceMs?: number): Promise<void>;
  /** Stops everything at once (connections closed, routes removed, bus unsubscribed). Idempotent. */
  close(): Promise<void>;
  /** One head-sync round now (head-sync.ts; it also runs every half route-refresh period): MN sent. */
  syncHeads(): Promise<number>;
  /** Open sockets, logged in or not. */
  readonly connectionCount: number;
  /** Bytes read from / written to client sockets since start, closed sockets included (metrics). */
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** close() waits at most this long for route removals and chatroom leaves of closed connections. */
const CLEANUP_WAIT_MS = 3_000;

/**
 * What every connection of an edge shares (context.ts). createEdge makes one per edge; the
 * edge-path benchmark makes one to drive connections without sockets.
 */
export function createEdgeContext(opts: EdgeOptions, track: EdgeContext['track']): EdgeContext {
  return {
    config: opts.config,
    nodeId: opts.nodeId,
    message: opts.message,
    presence: opts.presence,
    verifier: opts.verifier,
    serverKeys: opts.serverKeys ?? null,
    replay: opts.replay ?? new MemoryReplayCache(),
    logger: opts.logger,
    metrics: opts.metrics ?? NOOP_EDGE_METRICS,
    registry: new Registry<Connection>(),
    rooms: new LocalRooms<Connection>(),
    kicks: new KickMemo(),
    track,
  };
}

export function createEdge(opts: EdgeOptions): Edge {
  const { config, nodeId, bus, presence, logger } = opts;
  /** Every open socket, with a promise of its 'close'. */
  const connections = new Map<Connection, Promise<void>>();
  const cleanups = new Set<Promise<void>>();
  /** Byte totals of closed sockets; open ones are read from the sockets themselves. */
  const closedBytes = { in: 0, out: 0 };
  const sockets = new Set<ClientTransport>();
  const ctx = createEdgeContext(opts, (cleanup) => {
    cleanups.add(cleanup);
    void cleanup.finally(() => cleanups.delete(cleanup));
  });

  let server: Listening | null = null;
  /** Per-IP connection count and accept rate (protocol.md §6 Limits and abuse). */
  const ipGuard = new IpGuard(config.edge);
  let subscription: Subscription | null = null;
  let refreshTimer: NodeJS.Timeout | null = null;
  /** protocol.md §6 Guarantee: every half route-refresh period (head-sync.ts). */
  const headSync = new HeadSync(ctx);
  let headSyncTimer: NodeJS.Timeout | null = null;
  let refreshing = false;
  const rejoin = rejoiner(ctx);
  let accepting = false;
  let closed: Promise<void> | null = null;

  const onTransport = (socket: ClientTransport) => {
    if (!accepting) {
      socket.destroy();
      return;
    }
    const conn = new Connection(ctx, socket);
    sockets.add(socket);
    connections.set(
      conn,
      new Promise<void>((resolve) =>
        socket.onClose(() => {
          connections.delete(conn);
          sockets.delete(socket);
          closedBytes.in += socket.bytesRead;
          closedBytes.out += socket.bytesWritten;
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
    // protocol.md §6 Chatrooms: this node's rooms share the routes' TTL and refresh.
    const rooms = ctx.rooms.ids();
    if (routes.length === 0 && rooms.length === 0) return;
    refreshing = true;
    try {
      const [r, c] = await Promise.allSettled([
        routes.length > 0 ? presence.heartbeat(routes) : undefined,
        rooms.length > 0 ? opts.message.chatroomHeartbeat(nodeId, rooms) : undefined,
      ]);
      if (r.status === 'rejected') {
        logger.warn({ err: String(r.reason), routes: routes.length }, 'route refresh failed');
      }
      if (c.status === 'rejected') {
        const lost = lostChatrooms(c.reason);
        if (lost) void rejoin(lost);
        else logger.warn({ err: String(c.reason), chatrooms: rooms.length }, 'chatroom refresh failed');
      }
    } finally {
      refreshing = false;
    }
  };

  const stopAccepting = () => {
    accepting = false;
    server?.close();
    if (refreshTimer) clearInterval(refreshTimer);
    refreshTimer = null;
    if (headSyncTimer) clearInterval(headSyncTimer);
    headSyncTimer = null;
  };

  return {
    async listen() {
      if (server) throw new Error('edge is already listening');
      const deliver = createDeliveryHandler(ctx);
      // Without /metrics (embedded mode, tests) nothing is counted per delivery.
      subscription = await bus.subscribe(
        nodeId,
        ctx.metrics === NOOP_EDGE_METRICS ? deliver : measured(ctx, deliver),
      );
      // Plain and/or TLS (protocol.md §2 Transport security), behind the per-IP guard.
      const listening = await openListeners(config, onTransport, logger, ipGuard);
      server = listening;
      accepting = true;
      refreshTimer = setInterval(() => void refreshRoutes(), config.edge.routeRefreshMs);
      refreshTimer.unref();
      headSyncTimer = setInterval(
        () => void headSync.round().catch((err) => logger.warn({ err: String(err) }, 'head sync failed')),
        Math.max(1, config.edge.routeRefreshMs / 2),
      );
      headSyncTimer.unref();
      const { tlsPort, wsPort } = listening;
      const port = listening.port ?? tlsPort ?? (wsPort as number);
      logger.info(
        { nodeId, host: config.edge.host, port: listening.port, tlsPort, wsPort },
        'edge listening',
      );
      return {
        port,
        ...(tlsPort === undefined ? {} : { tlsPort }),
        ...(wsPort === undefined ? {} : { wsPort }),
      };
    },

    async drain(graceMs = config.edge.drainGraceMs) {
      stopAccepting();
      const all = [...connections.keys()];
      logger.info({ connections: all.length, graceMs }, 'edge draining');
      const started = Date.now();
      let next = 0;
      for (const batch of drainPlan(all.length, graceMs)) {
        const wait = started + batch.atMs - Date.now();
        if (wait > 0) await sleep(wait);
        for (const retryAfterMs of batch.retryAfterMs) goAway(all[next++] as Connection, retryAfterMs);
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

    syncHeads() {
      return headSync.round();
    },

    get connectionCount() {
      return connections.size;
    },

    get bytesIn() {
      let n = closedBytes.in;
      for (const s of sockets) n += s.bytesRead;
      return n;
    },

    get bytesOut() {
      let n = closedBytes.out;
      for (const s of sockets) n += s.bytesWritten;
      return n;
    },
  };
}

/**
 * Counts what the bus brings (im_kafka_consume_total) and, once the batch's frames are written,
 * the serverTime → MPS latency of each message delivery that had a device here (im_edge_push_seconds).
 */
function measured(ctx: EdgeContext, handler: (batch: Delivery[]) => Promise<void>) {
  return async (batch: Delivery[]): Promise<void> => {
    const kinds = new Map<string, number>();
    for (const d of batch) kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
    for (const [kind, n] of kinds) ctx.metrics.consumed(kind, n);
    await handler(batch);
    for (const d of batch) {
      if (d.nodeId !== ctx.nodeId) continue;
      if (d.kind === 'message' && ctx.registry.devices(d.userId).length > 0)
        ctx.metrics.pushed(d.message.serverTime);
      else if (d.kind === 'room' && ctx.rooms.members(d.roomId).length > 0)
        ctx.metrics.pushed(d.message.serverTime);
    }
  };
}

/** protocol.md §6 Shutdown: the LOGOUT notify with UNAVAILABLE and the reconnect delay, then FIN. */
function goAway(conn: Connection, retryAfterMs: number): void {
  conn.sendNotifies([
    {
      command: Command.LOGOUT,
      status: Status.UNAVAILABLE,
      encrypt: 0,
      body: codec.ErrorInfo.encode({
        message: 'server shutting down: reconnect to another node',
        retryAfterMs,
      }),
    },
  ]);
  conn.end();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
