/**
 * The one config loader. Every knob has its default HERE and nowhere else; entry points
 * (services/<name>/src/main.ts) call `loadConfig(process.env)` once and pass the typed
 * result down — no module reads process.env on its own.
 */

export interface Config {
  /** This process's node id (edge nodes: the Kafka delivery address). */
  nodeId: string;
  /** pino level: fatal, error, warn, info, debug, trace (or silent). */
  logLevel: string;
  /** Log lines: `json`, `pretty` (human-readable), or `auto`: pretty when stdout is a terminal. */
  logFormat: LogFormat;
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
    /**
     * protocol.md §2 RSA freshness: an RSA (2) LOGIN's clientTime must be within this of the
     * server's clock; its wrapped secret is remembered for twice this, so a replay is refused.
     */
    rsaLoginWindowMs: number;
    /**
     * Also accept WebSocket (protocol.md §1 WebSocket transport: path /im, subprotocol im.v1) on
     * wsPort, for browsers; `wss` when tlsCertFile and tlsKeyFile are set.
     */
    ws: boolean;
    /** Port of the WebSocket listener (ws, or wss with the TLS files). */
    wsPort: number;
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
    /** HS256 secret for LoginRequest.token (JWT); at least 32 bytes, or the process refuses to start. */
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
    /**
     * Accept HS256 tokens (IM_JWT_SECRET) while a JWKS is configured too; off by default, so a
     * leaked shared secret cannot mint tokens where the company's issuer is the authority.
     */
    hs256WithJwks: boolean;
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
    /**
     * Bodies above this are announced with MN instead of pushed with MPS; a chatroom or TYPING body
     * above it is refused (BAD_REQUEST): there is no inbox to pull it from.
     */
    pushMaxBodyBytes: number;
    /** TYPING per (sender, conversation) per second (0 = no limit); over it TOO_MANY_REQUESTS. */
    typingPerSecond: number;
    /** TYPING a (sender, conversation) may save up. */
    typingBurst: number;
    /** Groups with more members than this get MN instead of MPS. */
    pushMaxGroupMembers: number;
    /** How long a queued message may wait for others to join its fan-out batch (one routes read, one Kafka produce per batch). */
    fanoutLingerMs: number;
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
    /** Address of the HTTP server (admin API, /metrics, /healthz, /readyz); embedded mode: loopback. */
    host: string;
    /** HTTP: admin API, /metrics, /healthz, /readyz. */
    port: number;
    /** Bearer secret of the admin API. */
    secret: string;
    /** POST /v1/tokens issues development tokens (signed with IM_JWT_SECRET); embedded mode: on. */
    devTokens: boolean;
    /**
     * Embedded mode, development only: serve the web chat demo at /demo/ on this port; the page gets
     * development tokens WITHOUT the bearer secret. Needs IM_EDGE_WS=true and development tokens.
     */
    webDemo: boolean;
  };
  chatroom: {
    /**
     * protocol.md §6 Chatrooms: a room with no join, no send and no member present for this long
     * is evicted (deleted from the directory; CRJ to it is then NOT_FOUND).
     */
    idleEvictMs: number;
  };
  /**
   * Embedded mode: the folder of its SQLite database (`im.db`, docs/storage.md) and development keys.
   * An older version's PGlite folder found in it (`pg`) is imported once at start.
   */
  dataDir: string;
  /** Embedded mode's SQLite store (docs/storage.md). */
  sqlite: {
    /**
     * How long the first append of a group commit may wait for others (0: to the end of the
     * event-loop turn). Each commit costs a WAL write and an fsync whatever its size, so a few ms
     * here turn many small commits into one under load, for that much more send→ack.
     */
    commitLingerMs: number;
  };
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
  /**
   * OpenTelemetry traces of one message, edge → message → storage → Kafka → edge (tracing.ts;
   * docs/architecture.md "Tracing"), configured by the standard OTEL_* variables. Off unless an
   * exporter is named or an OTLP endpoint is set.
   */
  tracing: {
    /**
     * otlp (OTLP over HTTP), console, or none; unset: otlp when an OTLP endpoint is set, else none
     * (off: the standard's default would be otlp, this project's is off).
     */
    exporter: '' | 'none' | 'otlp' | 'console';
    /** Base URL of the OTLP receiver; traces go to <url>/v1/traces. */
    otlpEndpoint: string;
    /** Full URL for traces (wins over the base URL). */
    otlpTracesEndpoint: string;
    /**
     * always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or
     * parentbased_traceidratio. Only the edge starts traces (one per MS); the other services follow it.
     */
    sampler: string;
    /** The ratio of traceidratio samplers, 0 to 1 (0.01: one MS in a hundred). */
    samplerArg: number;
    /** service.name of the spans; default the process's own (im-edge, im-message, ...). */
    serviceName: string;
    /** true: no tracing whatever else is set (OpenTelemetry's kill switch). */
    disabled: boolean;
  };
  grpc: {
    /** host:port of the message service (its own listen port, and where others call it). */
    messageAddr: string;
    /** host:port of the presence service. */
    presenceAddr: string;
    /** host:port of the storage service. */
    storageAddr: string;
    /** Deadline of every internal call; past it the client gets UNAVAILABLE. */
    deadlineMs: number;
    /** How MS travel from an edge to the message service: stream (long-lived streams) or unary (a call per batch). */
    sendTransport: 'stream' | 'unary';
    /** Streams per batched hop (edge → message, message → storage); a connection always uses the same one. */
    streams: number;
    /** Requests in flight per batched hop; past it new ones get UNAVAILABLE at once (backpressure). */
    maxInFlight: number;
    /**
     * mTLS on every internal gRPC hop (docs/security.md, Internal traffic): the CA (PEM) that signed
     * every service's certificate. With the cert and key set too, servers accept only clients with a
     * certificate of this CA and clients check the server's; all three or none.
     */
    tlsCaFile: string;
    /** This process's certificate chain (PEM), shown to the services it calls and to its callers. */
    tlsCertFile: string;
    /** The private key (PEM) of tlsCertFile. */
    tlsKeyFile: string;
    /**
     * The name the servers' certificates are checked against; '' = the host of each address
     * (im-message, im-presence, im-storage). One name for all: one certificate for every service.
     */
    tlsServerName: string;
    /**
     * How long the first request of a batch may wait for others on a batched hop (0: to the end
     * of the event-loop turn). Measured (docs/benchmarks.md): 4 ms costs 25–30 % less CPU per
     * message than 1 ms at 1,000–3,000 msg/s, for ~5 ms more send→ack.
     */
    lingerMs: number;
  };
}

type Env = Record<string, string | undefined>;

/** Env name → where it lands; the README's configuration table is checked against this list. */
export const ENV_VARS = {
  IM_NODE_ID: 'nodeId',
  LOG_LEVEL: 'logLevel',
  LOG_FORMAT: 'logFormat',
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
  IM_RSA_LOGIN_WINDOW_MS: 'edge.rsaLoginWindowMs',
  IM_EDGE_WS: 'edge.ws',
  IM_EDGE_WS_PORT: 'edge.wsPort',
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
  IM_JWT_HS256_WITH_JWKS: 'auth.hs256WithJwks',
  IM_RSA_PRIVATE_KEY_FILE: 'serverKey.privateKeyFile',
  IM_RSA_PRIVATE_KEY: 'serverKey.privateKeyPem',
  IM_RECALL_WINDOW_MS: 'message.recallWindowMs',
  IM_PUSH_MAX_BODY_BYTES: 'message.pushMaxBodyBytes',
  IM_PUSH_MAX_GROUP_MEMBERS: 'message.pushMaxGroupMembers',
  IM_TYPING_PER_SECOND: 'message.typingPerSecond',
  IM_TYPING_BURST: 'message.typingBurst',
  IM_FANOUT_LINGER_MS: 'message.fanoutLingerMs',
  IM_WORKER_ID: 'message.workerId',
  IM_ROUTE_TTL_MS: 'routes.ttlMs',
  IM_ADMIN_HOST: 'admin.host',
  IM_ADMIN_PORT: 'admin.port',
  IM_ADMIN_SECRET: 'admin.secret',
  IM_ADMIN_DEV_TOKENS: 'admin.devTokens',
  IM_WEB_DEMO: 'admin.webDemo',
  IM_CHATROOM_IDLE_EVICT_MS: 'chatroom.idleEvictMs',
  IM_DATA_DIR: 'dataDir',
  IM_SQLITE_COMMIT_LINGER_MS: 'sqlite.commitLingerMs',
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
  IM_SEND_TRANSPORT: 'grpc.sendTransport',
  IM_GRPC_STREAMS: 'grpc.streams',
  IM_GRPC_MAX_IN_FLIGHT: 'grpc.maxInFlight',
  IM_GRPC_TLS_CA_FILE: 'grpc.tlsCaFile',
  IM_GRPC_TLS_CERT_FILE: 'grpc.tlsCertFile',
  IM_GRPC_TLS_KEY_FILE: 'grpc.tlsKeyFile',
  IM_GRPC_TLS_SERVER_NAME: 'grpc.tlsServerName',
  OTEL_TRACES_EXPORTER: 'tracing.exporter',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'tracing.otlpEndpoint',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'tracing.otlpTracesEndpoint',
  OTEL_TRACES_SAMPLER: 'tracing.sampler',
  OTEL_TRACES_SAMPLER_ARG: 'tracing.samplerArg',
  OTEL_SERVICE_NAME: 'tracing.serviceName',
  OTEL_SDK_DISABLED: 'tracing.disabled',
  IM_GRPC_LINGER_MS: 'grpc.lingerMs',
} as const;

export const DEFAULT_PORTS = {
  edge: 7100,
  edgeTls: 7143,
  edgeWs: 7300,
  admin: 7180,
  message: 7201,
  presence: 7202,
  storage: 7203,
} as const;

export function defaultConfig(): Config {
  return {
    nodeId: '',
    logLevel: 'info',
    logFormat: 'auto',
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
      rsaLoginWindowMs: 5 * 60_000,
      ws: false,
      wsPort: DEFAULT_PORTS.edgeWs,
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
      hs256WithJwks: false,
    },
    serverKey: { privateKeyFile: '', privateKeyPem: '' },
    message: {
      recallWindowMs: 2 * 60_000,
      pushMaxBodyBytes: 16 * 1024,
      pushMaxGroupMembers: 200,
      typingPerSecond: 1,
      typingBurst: 3,
      fanoutLingerMs: 5,
      workerId: 0,
      leaseWorkerId: true,
    },
    routes: { ttlMs: 90_000 },
    admin: { host: '0.0.0.0', port: DEFAULT_PORTS.admin, secret: '', devTokens: false, webDemo: false },
    chatroom: { idleEvictMs: 24 * 3600_000 },
    dataDir: '.data',
    sqlite: { commitLingerMs: 2 },
    redisUrl: 'redis://127.0.0.1:6379',
    redisPrefix: 'im:',
    kafkaBrokers: ['127.0.0.1:9092'],
    kafkaTopicPrefix: 'im.',
    janitor: { graceMs: 10 * 60_000, intervalMs: 60_000 },
    databaseUrl: 'postgres://im:im@127.0.0.1:5432/im',
    databaseSchema: '',
    tracing: {
      exporter: '',
      otlpEndpoint: '',
      otlpTracesEndpoint: '',
      sampler: 'parentbased_always_on',
      samplerArg: 1,
      serviceName: '',
      disabled: false,
    },
    grpc: {
      messageAddr: `127.0.0.1:${DEFAULT_PORTS.message}`,
      presenceAddr: `127.0.0.1:${DEFAULT_PORTS.presence}`,
      storageAddr: `127.0.0.1:${DEFAULT_PORTS.storage}`,
      deadlineMs: 3_000,
      sendTransport: 'stream',
      streams: 2,
      maxInFlight: 8192,
      lingerMs: 4,
      tlsCaFile: '',
      tlsCertFile: '',
      tlsKeyFile: '',
      tlsServerName: '',
    },
  };
}

/**
 * Where a process runs: `cluster` (one service of the cluster, the defaults above) or `embedded`
 * (the one-process development server: its admin API on loopback and development tokens on,
 * EMBEDDED_DEFAULTS). An env value wins over either.
 */
export type ConfigMode = 'cluster' | 'embedded';

/** What embedded mode changes in defaultConfig(), and nothing else (docs/security.md, Defaults). */
export const EMBEDDED_DEFAULTS = {
  admin: { host: '127.0.0.1', devTokens: true },
  // In one process a fan-out batch costs no round trip: nothing to wait for.
  message: { fanoutLingerMs: 0 },
} as const satisfies DeepPartial<Config>;

export function defaultsFor(mode: ConfigMode): Config {
  const cfg = defaultConfig();
  if (mode === 'embedded') merge(cfg as unknown as Record<string, unknown>, EMBEDDED_DEFAULTS);
  return cfg;
}

export type LogFormat = 'auto' | 'json' | 'pretty';

/** HS256 keys shorter than this are refused (RFC 7518 §3.2: a key at least as long as the hash). */
export const MIN_HS256_SECRET_BYTES = 32;

export class ConfigError extends Error {}

// ---------------------------------------------------------------- the schema

/**
 * One env value's type: what it must be (for the error and the README table) and its parse,
 * which throws a RangeError saying what is wrong when the text is not such a value.
 */
export interface EnvType {
  what: string;
  parse(raw: string): unknown;
  /** The value is a secret: an error never repeats it. */
  secret?: boolean;
}

const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout's longest delay

function int(min: number, max: number, what = `an integer from ${min} to ${max}`): EnvType {
  return {
    what,
    parse(raw) {
      if (!/^-?\d+$/.test(raw)) throw new RangeError('not an integer');
      const n = Number(raw);
      if (n < min || n > max) throw new RangeError('out of range');
      return n;
    },
  };
}

const port = int(0, 65535, 'a port number from 0 to 65535 (0: any free port)');
const ms = (min = 0) => int(min, MAX_TIMER_MS, `milliseconds, an integer from ${min} to ${MAX_TIMER_MS}`);
const count = (min = 0) => int(min, Number.MAX_SAFE_INTEGER, `an integer of at least ${min}`);

const text: EnvType = { what: 'text', parse: (raw) => raw };

// Strict: a typo such as `ture` or `off` is an error, not silently false.
const bool: EnvType = {
  what: 'true or false (or 1 / 0)',
  parse(raw) {
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new RangeError('not a boolean');
  },
};

function oneOf(values: readonly string[]): EnvType {
  return {
    what: `one of ${values.join(', ')}`,
    parse(raw) {
      if (!values.includes(raw)) throw new RangeError('not an allowed value');
      return raw;
    },
  };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** OTEL_TRACES_SAMPLER values (the OpenTelemetry SDK configuration's names). */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];

function hostPortOf(raw: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(raw);
  if (!m || Number(m[2]) > 65535) throw new RangeError('not host:port');
  return raw;
}

const hostPort: EnvType = { what: 'host:port (port 0 to 65535)', parse: hostPortOf };

const hostPortList: EnvType = {
  what: 'a comma-separated list of host:port',
  parse(raw) {
    const list = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (list.length === 0) throw new RangeError('empty list');
    return list.map(hostPortOf);
  },
};

function url(schemes: readonly string[]): EnvType {
  return {
    what: `a URL (${schemes.map((s) => `${s}//`).join(', ')})`,
    // A URL may carry a password: never repeated in an error.
    secret: true,
    parse(raw) {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new RangeError('not a URL');
      }
      if (!schemes.includes(u.protocol)) throw new RangeError(`scheme ${u.protocol} not allowed`);
      return raw;
    },
  };
}

const secret = (minBytes = 1): EnvType => ({
  what: minBytes > 1 ? `a secret of at least ${minBytes} bytes` : 'a secret',
  secret: true,
  parse(raw) {
    const bytes = Buffer.byteLength(raw, 'utf8');
    if (bytes < minBytes) {
      throw new RangeError(
        `${bytes} bytes is too short; make one with: openssl rand -base64 ${Math.ceil((minBytes * 3) / 2)}`,
      );
    }
    return raw;
  },
});

// The node id names a Kafka topic (`<prefix>deliver.<nodeId>`): topic-safe characters only.
const nodeId: EnvType = {
  what: 'letters, digits, ".", "_" and "-"',
  parse(raw) {
    if (!/^[A-Za-z0-9._-]+$/.test(raw)) throw new RangeError('not topic-safe');
    return raw;
  },
};

/** Every env name of ENV_VARS and how its value is read. */
export const ENV_SCHEMA: { readonly [K in keyof typeof ENV_VARS]: EnvType } = {
  IM_NODE_ID: nodeId,
  LOG_LEVEL: oneOf(LOG_LEVELS),
  LOG_FORMAT: oneOf(LOG_FORMATS),
  IM_EDGE_HOST: text,
  IM_EDGE_PORT: port,
  IM_MAX_BODY_BYTES: int(1024, 256 * 1024 * 1024),
  IM_HEARTBEAT_SECONDS: int(1, 3600),
  IM_LOGIN_TIMEOUT_MS: ms(1),
  IM_FRAME_DEADLINE_MS: ms(1),
  IM_MAX_OUTBOUND_BYTES: count(1),
  IM_ROUTE_REFRESH_MS: ms(1),
  IM_DRAIN_GRACE_MS: ms(),
  IM_EDGE_PLAIN: bool,
  IM_EDGE_TLS_PORT: port,
  IM_TLS_CERT_FILE: text,
  IM_TLS_KEY_FILE: text,
  IM_RSA_LOGIN_WINDOW_MS: ms(1),
  IM_EDGE_WS: bool,
  IM_EDGE_WS_PORT: port,
  IM_RATE_FRAMES_PER_SECOND: count(),
  IM_RATE_FRAMES_BURST: count(),
  IM_RATE_BYTES_PER_SECOND: count(),
  IM_RATE_BYTES_BURST: count(),
  IM_ABUSE_CLOSE_MS: ms(),
  IM_MAX_CONNECTIONS_PER_IP: count(),
  IM_ACCEPT_PER_IP_PER_SECOND: count(),
  IM_ACCEPT_PER_IP_BURST: count(),
  IM_MAX_STRING_LENGTH: count(1),
  IM_MAX_BYTES_LENGTH: count(1),
  IM_MAX_REPEATED: count(1),
  IM_MAX_PROTOBUF_DEPTH: int(1, 100),
  IM_JWT_SECRET: secret(MIN_HS256_SECRET_BYTES),
  IM_JWKS_URL: url(['https:', 'http:']),
  IM_JWKS_FILE: text,
  IM_JWT_ISSUER: text,
  IM_JWT_AUDIENCE: text,
  IM_JWT_CLOCK_SKEW_SECONDS: int(0, 3600),
  IM_JWT_HS256_WITH_JWKS: bool,
  IM_RSA_PRIVATE_KEY_FILE: text,
  IM_RSA_PRIVATE_KEY: secret(),
  IM_RECALL_WINDOW_MS: ms(),
  IM_PUSH_MAX_BODY_BYTES: count(),
  IM_PUSH_MAX_GROUP_MEMBERS: count(),
  IM_TYPING_PER_SECOND: count(),
  IM_TYPING_BURST: count(),
  IM_FANOUT_LINGER_MS: int(0, 1000),
  IM_WORKER_ID: int(0, 1023),
  IM_ROUTE_TTL_MS: ms(1),
  IM_ADMIN_HOST: text,
  IM_ADMIN_PORT: port,
  IM_ADMIN_SECRET: secret(),
  IM_ADMIN_DEV_TOKENS: bool,
  IM_WEB_DEMO: bool,
  IM_CHATROOM_IDLE_EVICT_MS: ms(1),
  IM_DATA_DIR: text,
  IM_SQLITE_COMMIT_LINGER_MS: int(0, 100),
  REDIS_URL: url(['redis:', 'rediss:']),
  IM_REDIS_PREFIX: text,
  KAFKA_BROKERS: hostPortList,
  IM_KAFKA_TOPIC_PREFIX: text,
  IM_JANITOR_GRACE_MS: ms(1),
  IM_JANITOR_INTERVAL_MS: ms(),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  IM_DB_SCHEMA: text,
  IM_MESSAGE_ADDR: hostPort,
  IM_PRESENCE_ADDR: hostPort,
  IM_STORAGE_ADDR: hostPort,
  IM_GRPC_DEADLINE_MS: ms(1),
  IM_SEND_TRANSPORT: oneOf(['stream', 'unary']),
  IM_GRPC_STREAMS: int(1, 64),
  IM_GRPC_MAX_IN_FLIGHT: int(1, 1_000_000),
  OTEL_TRACES_EXPORTER: oneOf(['none', 'otlp', 'console']),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url(['http:', 'https:']),
  OTEL_TRACES_SAMPLER: oneOf(TRACE_SAMPLERS),
  OTEL_TRACES_SAMPLER_ARG: {
    what: 'a number from 0 to 1',
    parse(raw) {
      const n = Number(raw);
      if (!/^(0|1|0?\.\d+|1\.0*)$/.test(raw) || n < 0 || n > 1) throw new RangeError('not a ratio');
      return n;
    },
  },
  OTEL_SERVICE_NAME: text,
  OTEL_SDK_DISABLED: bool,
  IM_GRPC_LINGER_MS: int(0, 100),
  IM_GRPC_TLS_CA_FILE: text,
  IM_GRPC_TLS_CERT_FILE: text,
  IM_GRPC_TLS_KEY_FILE: text,
  IM_GRPC_TLS_SERVER_NAME: text,
};

/** `NAME must be <what>, got "<raw>"` (the value left out for secrets), plus what is wrong. */
function envError(name: keyof typeof ENV_VARS, raw: string, err: unknown): string {
  const type = ENV_SCHEMA[name];
  const got = type.secret ? '' : `, got ${JSON.stringify(raw)}`;
  const why = err instanceof RangeError && type.secret ? ` (${err.message})` : '';
  return `${name} must be ${type.what}${got}${why}`;
}

/**
 * Reads the environment (only the names in ENV_VARS, each through ENV_SCHEMA) over the defaults of
 * `mode`, then applies `overrides` (tests, embedders). Throws one ConfigError listing every bad value,
 * each line naming its env var.
 */
export function loadConfig(
  env: Env,
  overrides: DeepPartial<Config> = {},
  mode: ConfigMode = 'cluster',
): Config {
  const cfg = defaultsFor(mode) as unknown as Record<string, unknown>;
  const problems: string[] = [];
  for (const [name, path] of Object.entries(ENV_VARS) as [keyof typeof ENV_VARS, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    try {
      setPath(cfg, path, ENV_SCHEMA[name].parse(raw.trim()));
    } catch (err) {
      problems.push(envError(name, raw, err));
    }
  }
  if (problems.length === 1) throw new ConfigError(problems[0]);
  if (problems.length > 1)
    throw new ConfigError(`${problems.length} bad settings:\n  ${problems.join('\n  ')}`);
  // A worker id given by hand (StatefulSet ordinal, compose) is used as is; otherwise it is leased.
  if (env.IM_WORKER_ID !== undefined && env.IM_WORKER_ID !== '') setPath(cfg, 'message.leaseWorkerId', false);
  merge(cfg, overrides as Record<string, unknown>);
  return cfg as unknown as Config;
}

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};

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
