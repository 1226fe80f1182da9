/**
 * The one config loader. Every knob has its default HERE and nowhere else; entry points
 * (services/<name>/src/main.ts) call `loadConfig(process.env)` once and pass the typed
 * result down — no module reads process.env on its own.
 */

export interface Config {
  /** This process's node id (edge nodes: the Kafka delivery address). */
  nodeId: string;
  /** pino level: fatal, error, warn, info, debug, trace. */
  logLevel: string;
  edge: {
    /** Address the edge listens on. */
    host: string;
    /** Plain TCP port of the binary protocol. */
    port: number;
    /** Largest body on the wire and after decompression (protocol.md §1). */
    maxBodyBytes: number;
    /** LoginResponse.heartbeatSeconds; idle close after 2.5 × (protocol.md §6 Heartbeat). */
    heartbeatSeconds: number;
    /** A connection that has not logged in within this is closed (protocol.md §6 Session). */
    loginTimeoutMs: number;
    /** A started frame must complete within this (a trickled body is cut off). */
    frameDeadlineMs: number;
    /** Unsent output allowed per connection before a slow reader is disconnected. */
    maxOutboundBytes: number;
    /** How often the edge refreshes the TTL of the routes it holds, in one batch. */
    routeRefreshMs: number;
    /** SIGTERM: connections are closed in batches over this period. */
    drainGraceMs: number;
    // ---- transport security (protocol.md §2 Transport security; docs/security.md) ----
    /** Listen on the plain TCP port; false = TLS only. */
    plain: boolean;
    /** TLS port of the same protocol; used when tlsCertFile and tlsKeyFile are set. */
    tlsPort: number;
    /** PEM certificate chain of the TLS listener. */
    tlsCertFile: string;
    /** PEM private key of the TLS listener. */
    tlsKeyFile: string;
    // ---- limits and abuse (protocol.md §6 Limits and abuse; docs/security.md has the table) ----
    /** Per-connection token bucket: frames per second (0 = no limit). */
    rateFramesPerSecond: number;
    /** Frames a connection may save up in its bucket. */
    rateFramesBurst: number;
    /** Per-connection token bucket: bytes per second, header + body (0 = no limit). */
    rateBytesPerSecond: number;
    /** Bytes a connection may save up in its bucket. */
    rateBytesBurst: number;
    /** Still refused this long after the first TOO_MANY_REQUESTS (no quiet second between): closed. */
    abuseCloseMs: number;
    /** Open connections from one IP address (0 = no limit). */
    maxConnectionsPerIp: number;
    /** New connections per second from one IP address (0 = no limit). */
    acceptPerIpPerSecond: number;
    /** New connections one IP address may save up. */
    acceptPerIpBurst: number;
    /** Longest string field after decoding a body (UTF-16 units). */
    maxStringLength: number;
    /** Longest bytes field after decoding a body. */
    maxBytesLength: number;
    /** Most entries of a repeated field after decoding a body. */
    maxRepeated: number;
    /** Deepest protobuf nesting (messages and skipped groups) accepted in a body. */
    maxProtobufDepth: number;
  };
  auth: {
    /** HS256 secret for LoginRequest.token (JWT). */
    jwtSecret: string;
    /** RS256/ES256 tokens: the issuer's JWKS URL (fetched and cached). */
    jwksUrl: string;
    /** RS256/ES256 tokens: a JWKS file. */
    jwksFile: string;
    /** Required `iss` claim when set. */
    jwtIssuer: string;
    /** Required `aud` claim when set. */
    jwtAudience: string;
    /** Tolerated clock difference for exp and nbf. */
    clockSkewSeconds: number;
  };
  /**
   * The server's RSA key pair for RSA (2) logins (protocol.md §2): a PEM private key from a file or
   * the environment. Embedded mode generates one for development when neither is set.
   */
  serverKey: {
    /** The server's RSA private key (PEM file) for RSA (2) logins; embedded mode generates one. */
    privateKeyFile: string;
    /** The same key as PEM text, instead of a file. */
    privateKeyPem: string;
  };
  message: {
    /** protocol.md §6 Recall: window in which the sender may recall. */
    recallWindowMs: number;
    /** Bodies above this are announced with MN instead of pushed with MPS. */
    pushMaxBodyBytes: number;
    /** Groups with more members than this get MN instead of MPS. */
    pushMaxGroupMembers: number;
    /** Worker id of message uids (0..1023); unset in the cluster: leased from Redis. */
    workerId: number;
    /**
     * The message service leases its worker id from Redis (uid-lease.redis.ts) instead of using
     * workerId. Not an env name of its own: true exactly when IM_WORKER_ID is not set.
     */
    leaseWorkerId: boolean;
  };
  routes: {
    /** Route TTL: routes of a dead edge expire after this without cleanup. */
    ttlMs: number;
  };
  admin: {
    /** Address of the HTTP server (admin API, /metrics, /healthz, /readyz). */
    host: string;
    /** HTTP: admin API, /metrics, /healthz, /readyz. */
    port: number;
    /** Bearer secret of the admin API. */
    secret: string;
    /** POST /v1/tokens issues development tokens; switch off where tokens come from elsewhere. */
    devTokens: boolean;
  };
  chatroom: {
    /**
     * protocol.md §6 Chatrooms: a room with no join, no send and no member present for this long
     * is evicted (deleted from the directory; CRJ to it is then NOT_FOUND).
     */
    idleEvictMs: number;
  };
  /** Embedded mode: where the embedded PostgreSQL (PGlite) keeps its files. */
  dataDir: string;
  /** Redis of the cluster (routes, chatroom presence, uid worker leases). */
  redisUrl: string;
  /**
   * Prefix of every Redis key of the cluster (routes `<p>routes:`, chatrooms `<p>rooms:`, uid worker
   * leases `<p>uid-worker:`), so several clusters (or test runs) can share one Redis.
   */
  redisPrefix: string;
  /** Kafka brokers of the cluster, comma-separated (delivery to edge nodes, offline push). */
  kafkaBrokers: string[];
  /** Prefix of every Kafka topic and consumer group (`<p>deliver.<nodeId>`, `<p>offline-push`). */
  kafkaTopicPrefix: string;
  /** The presence service's janitor of the delivery topics of gone edge nodes (bus/kafka-janitor.ts). */
  janitor: {
    /** An edge node's consumer group empty this long: its topic and group are deleted (≥ the route TTL). */
    graceMs: number;
    /** How often the janitor (one per cluster, by a Redis lock) looks; 0 = never. */
    intervalMs: number;
  };
  /** PostgreSQL of the storage service. */
  databaseUrl: string;
  /** PostgreSQL schema of the storage service (created when missing); '' = the role's default. */
  databaseSchema: string;
  grpc: {
    /** host:port of the message service (its own listen port, and where others call it). */
    messageAddr: string;
    /** host:port of the presence service. */
    presenceAddr: string;
    /** host:port of the storage service. */
    storageAddr: string;
    /** Deadline of every internal call; past it the client gets UNAVAILABLE. */
    deadlineMs: number;
  };
}

type Env = Record<string, string | undefined>;

/** Env name → where it lands; the README's configuration table is checked against this list. */
export const ENV_VARS = {
  IM_NODE_ID: 'nodeId',
  LOG_LEVEL: 'logLevel',
  IM_EDGE_HOST: 'edge.host',
  IM_EDGE_PORT: 'edge.port',
  IM_MAX_BODY_BYTES: 'edge.maxBodyBytes',
  IM_HEARTBEAT_SECONDS: 'edge.heartbeatSeconds',
  IM_LOGIN_TIMEOUT_MS: 'edge.loginTimeoutMs',
  IM_FRAME_DEADLINE_MS: 'edge.frameDeadlineMs',
  IM_MAX_OUTBOUND_BYTES: 'edge.maxOutboundBytes',
  IM_ROUTE_REFRESH_MS: 'edge.routeRefreshMs',
  IM_DRAIN_GRACE_MS: 'edge.drainGraceMs',
  IM_EDGE_PLAIN: 'edge.plain',
  IM_EDGE_TLS_PORT: 'edge.tlsPort',
  IM_TLS_CERT_FILE: 'edge.tlsCertFile',
  IM_TLS_KEY_FILE: 'edge.tlsKeyFile',
  IM_RATE_FRAMES_PER_SECOND: 'edge.rateFramesPerSecond',
  IM_RATE_FRAMES_BURST: 'edge.rateFramesBurst',
  IM_RATE_BYTES_PER_SECOND: 'edge.rateBytesPerSecond',
  IM_RATE_BYTES_BURST: 'edge.rateBytesBurst',
  IM_ABUSE_CLOSE_MS: 'edge.abuseCloseMs',
  IM_MAX_CONNECTIONS_PER_IP: 'edge.maxConnectionsPerIp',
  IM_ACCEPT_PER_IP_PER_SECOND: 'edge.acceptPerIpPerSecond',
  IM_ACCEPT_PER_IP_BURST: 'edge.acceptPerIpBurst',
  IM_MAX_STRING_LENGTH: 'edge.maxStringLength',
  IM_MAX_BYTES_LENGTH: 'edge.maxBytesLength',
  IM_MAX_REPEATED: 'edge.maxRepeated',
  IM_MAX_PROTOBUF_DEPTH: 'edge.maxProtobufDepth',
  IM_JWT_SECRET: 'auth.jwtSecret',
  IM_JWKS_URL: 'auth.jwksUrl',
  IM_JWKS_FILE: 'auth.jwksFile',
  IM_JWT_ISSUER: 'auth.jwtIssuer',
  IM_JWT_AUDIENCE: 'auth.jwtAudience',
  IM_JWT_CLOCK_SKEW_SECONDS: 'auth.clockSkewSeconds',
  IM_RSA_PRIVATE_KEY_FILE: 'serverKey.privateKeyFile',
  IM_RSA_PRIVATE_KEY: 'serverKey.privateKeyPem',
  IM_RECALL_WINDOW_MS: 'message.recallWindowMs',
  IM_PUSH_MAX_BODY_BYTES: 'message.pushMaxBodyBytes',
  IM_PUSH_MAX_GROUP_MEMBERS: 'message.pushMaxGroupMembers',
  IM_WORKER_ID: 'message.workerId',
  IM_ROUTE_TTL_MS: 'routes.ttlMs',
  IM_ADMIN_HOST: 'admin.host',
  IM_ADMIN_PORT: 'admin.port',
  IM_ADMIN_SECRET: 'admin.secret',
  IM_ADMIN_DEV_TOKENS: 'admin.devTokens',
  IM_CHATROOM_IDLE_EVICT_MS: 'chatroom.idleEvictMs',
  IM_DATA_DIR: 'dataDir',
  REDIS_URL: 'redisUrl',
  IM_REDIS_PREFIX: 'redisPrefix',
  KAFKA_BROKERS: 'kafkaBrokers',
  IM_KAFKA_TOPIC_PREFIX: 'kafkaTopicPrefix',
  IM_JANITOR_GRACE_MS: 'janitor.graceMs',
  IM_JANITOR_INTERVAL_MS: 'janitor.intervalMs',
  DATABASE_URL: 'databaseUrl',
  IM_DB_SCHEMA: 'databaseSchema',
  IM_MESSAGE_ADDR: 'grpc.messageAddr',
  IM_PRESENCE_ADDR: 'grpc.presenceAddr',
  IM_STORAGE_ADDR: 'grpc.storageAddr',
  IM_GRPC_DEADLINE_MS: 'grpc.deadlineMs',
} as const;

export const DEFAULT_PORTS = {
  edge: 7100,
  edgeTls: 7143,
  admin: 7180,
  message: 7201,
  presence: 7202,
  storage: 7203,
} as const;

export function defaultConfig(): Config {
  return {
    nodeId: '',
    logLevel: 'info',
    edge: {
      host: '0.0.0.0',
      port: DEFAULT_PORTS.edge,
      maxBodyBytes: 1024 * 1024,
      heartbeatSeconds: 30,
      loginTimeoutMs: 10_000,
      frameDeadlineMs: 10_000,
      maxOutboundBytes: 4 * 1024 * 1024,
      routeRefreshMs: 20_000,
      drainGraceMs: 10_000,
      plain: true,
      tlsPort: DEFAULT_PORTS.edgeTls,
      tlsCertFile: '',
      tlsKeyFile: '',
      rateFramesPerSecond: 100,
      rateFramesBurst: 200,
      rateBytesPerSecond: 1024 * 1024,
      rateBytesBurst: 4 * 1024 * 1024,
      abuseCloseMs: 10_000,
      maxConnectionsPerIp: 1000,
      acceptPerIpPerSecond: 100,
      acceptPerIpBurst: 200,
      maxStringLength: 64 * 1024,
      maxBytesLength: 1024 * 1024,
      maxRepeated: 1000,
      maxProtobufDepth: 16,
    },
    auth: {
      jwtSecret: '',
      jwksUrl: '',
      jwksFile: '',
      jwtIssuer: '',
      jwtAudience: '',
      clockSkewSeconds: 30,
    },
    serverKey: { privateKeyFile: '', privateKeyPem: '' },
    message: {
      recallWindowMs: 2 * 60_000,
      pushMaxBodyBytes: 16 * 1024,
      pushMaxGroupMembers: 200,
      workerId: 0,
      leaseWorkerId: true,
    },
    routes: { ttlMs: 90_000 },
    admin: { host: '0.0.0.0', port: DEFAULT_PORTS.admin, secret: '', devTokens: true },
    chatroom: { idleEvictMs: 24 * 3600_000 },
    dataDir: '.data',
    redisUrl: 'redis://127.0.0.1:6379',
    redisPrefix: 'im:',
    kafkaBrokers: ['127.0.0.1:9092'],
    kafkaTopicPrefix: 'im.',
    janitor: { graceMs: 10 * 60_000, intervalMs: 60_000 },
    databaseUrl: 'postgres://im:im@127.0.0.1:5432/im',
    databaseSchema: '',
    grpc: {
      messageAddr: `127.0.0.1:${DEFAULT_PORTS.message}`,
      presenceAddr: `127.0.0.1:${DEFAULT_PORTS.presence}`,
      storageAddr: `127.0.0.1:${DEFAULT_PORTS.storage}`,
      deadlineMs: 3_000,
    },
  };
}

export class ConfigError extends Error {}

/** Reads the environment (only the names in ENV_VARS) over the defaults; throws ConfigError on a bad value. */
export function loadConfig(env: Env, overrides: DeepPartial<Config> = {}): Config {
  const cfg = defaultConfig() as unknown as Record<string, unknown>;
  for (const [name, path] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(cfg, path, parseValue(name, raw, getPath(cfg, path)));
  }
  // A worker id given by hand (StatefulSet ordinal, compose) is used as is; otherwise it is leased.
  if (env.IM_WORKER_ID !== undefined && env.IM_WORKER_ID !== '') setPath(cfg, 'message.leaseWorkerId', false);
  merge(cfg, overrides as Record<string, unknown>);
  return cfg as unknown as Config;
}

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};

function parseValue(name: string, raw: string, current: unknown): unknown {
  if (typeof current === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(`${name} must be true or false, got "${raw}"`);
  }
  if (typeof current === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0)
      throw new ConfigError(`${name} must be a non-negative number, got "${raw}"`);
    return n;
  }
  if (Array.isArray(current))
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return raw;
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], obj);
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() as string;
  const parent = keys.reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, obj);
  parent[last] = value;
}

function merge(target: Record<string, unknown>, src: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(src)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
      merge(target[k] as Record<string, unknown>, v as Record<string, unknown>);
    } else if (v !== undefined) {
      target[k] = v;
    }
  }
}
