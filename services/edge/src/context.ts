/**
 * What every connection of one edge node shares. The edge sees the services only through
 * the api/ports interfaces (@im/core api.ts, ports.ts): embedded mode passes the service
 * objects, the cluster passes gRPC clients of the same shape.
 */
import type { Config, MessageApi, PresenceApi, ReplayCache, ServerKeys, TokenVerifier } from '@im/core';
import type { Connection } from './connection.js';
import type { KickMemo } from './kick-memo.js';
import type { EdgeMetrics } from './metrics.js';
import type { Registry } from './registry.js';
import type { LocalRooms } from './rooms.js';

/** The subset of a pino logger the edge uses (pino's Logger satisfies it). */
export interface EdgeLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EdgeContext {
  readonly config: Config;
  readonly nodeId: string;
  readonly message: MessageApi;
  readonly presence: PresenceApi;
  readonly verifier: TokenVerifier;
  /** The RSA key pair for RSA (2) logins (protocol.md §2); null: RSA frames are UNSUPPORTED. */
  readonly serverKeys: ServerKeys | null;
  /** Wrapped secrets of recent RSA LOGINs (protocol.md §2 RSA freshness): a replay is refused. */
  readonly replay: ReplayCache;
  readonly logger: EdgeLogger;
  /** /metrics hooks (metrics.ts); a no-op unless the process serves metrics. */
  readonly metrics: EdgeMetrics;
  /** Logged-in (and logging-in) connections by (user, device). */
  readonly registry: Registry<Connection>;
  /** Local chatroom members (protocol.md §6 Chatrooms): room deliveries arrive once per node. */
  readonly rooms: LocalRooms<Connection>;
  /** Kicks that arrived before the connection they name finished registering. */
  readonly kicks: KickMemo;
  /** Close-time cleanups still running (presence.logout, chatroom leaves); edge.close awaits them. */
  track(cleanup: Promise<void>): void;
}
