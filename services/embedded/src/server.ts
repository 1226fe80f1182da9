/**
 * Embedded mode: the whole server in ONE process — the same edge and services as the cluster,
 * with in-process backends: SQLite (node:sqlite, <dataDir>/im.db, docs/storage.md) for messages,
 * in-memory routes, bus and chatroom membership. Messages, groups and chatrooms (the directory)
 * share the SQLite database and survive a restart; routes and who is in a room live only as long
 * as the process. A data directory of an older version (PGlite, <dataDir>/pg) is imported once
 * (import-pglite.ts). The admin HTTP API (services/admin) runs in-process on config.admin.port when
 * config.admin.secret is set (main.ts always sets one).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AdminServer, chatroomAdmin, startAdminServer } from '@im/admin';
import {
  ChatroomService,
  type Config,
  createLogger,
  createTokenVerifier,
  decodeLimits,
  type GroupAdmin,
  type Logger,
  loadServerKeys,
  MemoryBus,
  MemoryChatroomRegistry,
  MemoryPublicKeyStore,
  MemoryRouteStore,
  type MessageApi,
  MessageService,
  type OfflinePush,
  type PresenceApi,
  PresenceService,
  type ServerKeys,
  SnowflakeUid,
  SqliteChatroomDirectory,
  SqliteGroupDirectory,
  SqliteMessageStore,
  signDevToken,
  type TokenVerifier,
} from '@im/core';
import { createEdge, type Edge } from '@im/edge';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { readOrCreateDevServerKeys } from './dev-server-key.js';
import { importPgliteIfPresent } from './import-pglite.js';

/** The database file inside config.dataDir. */
export const DB_FILE = 'im.db';
/** The web chat demo's page (config admin.webDemo): index.html, style.css, dist/app.js (pnpm build:web). */
export const WEB_DEMO_DIR = join(dirname(fileURLToPath(import.meta.url)), '../web');

export interface EmbeddedOptions {
  /**
   * Served on the admin API's /metrics (Prometheus). Default: a registry with the process's
   * default metrics; pass one to add the edge's and services' own.
   */
  metrics?: Registry;
  /** Default: a pino logger named after the node at config.logLevel. */
  logger?: Logger;
  /** Default: from config.auth (HS256 secret and/or a JWKS URL or file). */
  verifier?: TokenVerifier;
  /**
   * RSA key pair for RSA (2) logins. Default: config.serverKey, else the development key in
   * <dataDir>/dev-rsa-key.pem (created on first start); null: RSA logins are UNSUPPORTED.
   */
  serverKeys?: ServerKeys | null;
}

export interface EmbeddedServer {
  /** The edge's TCP port (the real one when config.edge.port is 0); the TLS port when plain is off. */
  port: number;
  /** The edge's TLS port, when TLS is configured (config.edge.tlsCertFile / tlsKeyFile). */
  tlsPort?: number;
  /** The edge's WebSocket port (protocol.md §1), when config.edge.ws is on. */
  wsPort?: number;
  /** The RSA key pair of RSA (2) logins; its public half is what the admin API and `im server-key` publish. */
  serverKeys: ServerKeys | null;
  edge: Edge;
  /** Group membership (protocol.md §6 Groups; the admin API manages it), in SQLite. */
  groups: GroupAdmin;
  /** The admin HTTP API, or null when config.admin.secret is empty. */
  admin: AdminServer | null;
  /**
   * protocol.md §6 Offline push hook: embedded mode has no Kafka, so the records are kept here
   * (the newest 10 000) and logged at debug level; the cluster publishes them to `im.offline-push`.
   */
  offlinePushes(): readonly OfflinePush[];
  /** The services the edge calls (for the admin API and tests). */
  message: MessageApi;
  presence: PresenceApi;
  /** protocol.md §6 Shutdown: stop accepting, close connections gradually over graceMs. */
  drain(graceMs?: number): Promise<void>;
  /** Closes the edge, then the bus and the store (acknowledged messages are already durable). Idempotent. */
  close(): Promise<void>;
}

export async function startEmbedded(config: Config, opts: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  checkWebDemo(config);
  const nodeId = config.nodeId || 'embedded-1';
  const logger = opts.logger ?? createLogger(nodeId, config);
  const verifier = opts.verifier ?? createTokenVerifier(config.auth);
  const serverKeys =
    opts.serverKeys !== undefined
      ? opts.serverKeys
      : ((await loadServerKeys(config.serverKey)) ?? (await readOrCreateDevServerKeys(config.dataDir)).keys);

  // Throws StoreOpenError, with what to do, when the data directory or database is unusable.
  const dbPath = join(config.dataDir, DB_FILE);
  await importPgliteIfPresent(config.dataDir, dbPath, logger);
  const store = await SqliteMessageStore.open({ path: dbPath, commitLingerMs: config.sqlite.commitLingerMs });
  const routes = new MemoryRouteStore({ ttlMs: config.routes.ttlMs });
  const bus = new MemoryBus({
    onHandlerError: (err, node) => logger.error({ err, nodeId: node }, 'delivery handler failed'),
    onOfflinePush: (records) => logger.debug({ users: records.map((r) => r.userId) }, 'offline push'),
  });
  const groups = new SqliteGroupDirectory(store.db);
  const chatroomDirectory = new SqliteChatroomDirectory(store.db);
  const chatroomRegistry = new MemoryChatroomRegistry({ ttlMs: config.routes.ttlMs });
  const chatrooms = new ChatroomService({
    directory: chatroomDirectory,
    registry: chatroomRegistry,
    idleEvictMs: config.chatroom.idleEvictMs,
    logger,
  });
  const message = new MessageService({
    decodeLimits: decodeLimits(config.edge),
    maxBodyBytes: config.edge.maxBodyBytes,
    store,
    routes,
    bus,
    uid: new SnowflakeUid(config.message.workerId),
    groups,
    chatrooms,
    config: config.message,
    logger,
  });
  chatrooms.startEviction();
  const presence = new PresenceService({ routes, bus, keys: new MemoryPublicKeyStore(), logger });
  const edge = createEdge({ config, nodeId, message, presence, bus, verifier, logger, serverKeys });

  let port: number;
  let tlsPort: number | undefined;
  let wsPort: number | undefined;
  let admin: AdminServer | null = null;
  try {
    ({ port, tlsPort, wsPort } = await edge.listen());
    if (config.admin.secret) {
      admin = await startAdminServer(
        {
          secret: config.admin.secret,
          presence,
          groups,
          chatrooms: chatroomAdmin(chatroomDirectory, chatroomRegistry),
          issueToken:
            config.admin.devTokens && config.auth.jwtSecret
              ? (userId, ttl) => signDevToken(config.auth.jwtSecret, userId, ttl)
              : null,
          serverPublicKey: () => serverKeys?.publicKeyPem ?? null,
          webDemo: config.admin.webDemo
            ? {
                dir: WEB_DEMO_DIR,
                wsPort: wsPort as number,
                tls: config.edge.tlsCertFile !== '' && config.edge.tlsKeyFile !== '',
                issueToken: (userId, ttl) => signDevToken(config.auth.jwtSecret, userId, ttl),
              }
            : null,
          metrics: opts.metrics ?? defaultRegistry(),
          logger: logger.child({ component: 'admin' }),
        },
        { host: config.admin.host, port: config.admin.port },
      );
      logger.info({ host: config.admin.host, port: admin.port }, 'admin API listening');
    }
  } catch (err) {
    await admin?.close();
    await edge.close();
    await message.close();
    await bus.close();
    await routes.close();
    await store.close();
    throw err;
  }
  logger.info(
    {
      nodeId,
      host: config.edge.host,
      port,
      tlsPort,
      wsPort,
      dataDir: config.dataDir,
      serverKey: serverKeys?.fingerprint,
    },
    `embedded IM server listening on ${config.edge.host}:${port}${tlsPort ? ` (TLS on ${tlsPort})` : ''}${wsPort ? ` (WebSocket on ${wsPort})` : ''} (data in ${config.dataDir})`,
  );

  let closing: Promise<void> | null = null;
  return {
    port,
    tlsPort,
    wsPort,
    serverKeys,
    edge,
    groups,
    admin,
    offlinePushes: () => bus.offlinePushes,
    message,
    presence,
    drain: (graceMs) => {
      admin?.setDraining();
      return edge.drain(graceMs);
    },
    close() {
      closing ??= (async () => {
        await admin?.close();
        await edge.close();
        // Queued fan-out is handed to the bus before the bus goes (acked messages are stored anyway).
        await message.close();
        await bus.close();
        await routes.close();
        await store.close();
        logger.info({ nodeId }, 'embedded server closed');
      })();
      return closing;
    },
  };
}

function defaultRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * IM_WEB_DEMO serves a page that gets development tokens without the bearer secret: only with its
 * WebSocket listener to talk to, development tokens on, and an admin API to serve it from.
 */
function checkWebDemo(config: Config): void {
  if (!config.admin.webDemo) return;
  const missing = [
    config.edge.ws ? '' : 'IM_EDGE_WS=true (the page connects over WebSocket)',
    config.admin.devTokens ? '' : 'IM_ADMIN_DEV_TOKENS=true (the page logs in with development tokens)',
    config.auth.jwtSecret ? '' : 'an HS256 secret to sign them (IM_JWT_SECRET)',
    config.admin.secret ? '' : 'the admin API (IM_ADMIN_SECRET)',
  ].filter(Boolean);
  if (missing.length > 0) throw new Error(`IM_WEB_DEMO=true needs ${missing.join(', ')}`);
}
