import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { type OpsServer, startOpsServer } from './ops-server.js';
import type { RpcServer } from './server.js';

/** What a service's entry point builds: its gRPC server (listening) and its backends. */
export interface ServiceParts {
  server: RpcServer;
  /** /readyz: are the backends reachable? Should answer within a couple of seconds. */
  ready(): Promise<boolean>;
  /** Closes the backends; called once the gRPC server has finished its in-flight calls. */
  close(): Promise<void>;
}

export interface RunServiceOptions {
  /** For logs: message, presence, storage. */
  name: string;
  /** config.admin: where /healthz, /readyz and /metrics listen. */
  admin: { host: string; port: number };
  registry: Registry;
  logger: Logger;
  /** Builds the backends and starts the gRPC server. */
  start(): Promise<ServiceParts>;
  /** Bound on the whole shutdown; past it the process exits with 1. Default 15000. */
  shutdownTimeoutMs?: number;
  /** Default SIGTERM and SIGINT; [] installs no handler (tests). */
  signals?: NodeJS.Signals[];
  /** Default process.exit (injected in tests). */
  exit?: (code: number) => void;
}

export interface ServiceProcess {
  readonly grpcPort: number;
  readonly adminPort: number;
  /**
   * What a signal does: /readyz turns 503, the gRPC server stops taking calls and finishes the
   * in-flight ones, the backends are closed, the ops server stops. Safe to call twice (the same
   * run); resolves true when clean, false when it failed or hit shutdownTimeoutMs.
   */
  shutdown(reason: string): Promise<boolean>;
}

export const DEFAULT_SERVICE_SHUTDOWN_MS = 15_000;

/** A registry with the process's default metrics (CPU, memory, event loop lag, GC). */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * The one way a service process runs (services/<name>/src/main.ts): start, serve the ops
 * endpoints, and shut down gracefully and in bounded time on SIGTERM (STYLE.md §10).
 */
export async function runService(opts: RunServiceOptions): Promise<ServiceProcess> {
  const log = opts.logger;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const timeoutMs = opts.shutdownTimeoutMs ?? DEFAULT_SERVICE_SHUTDOWN_MS;

  const parts = await opts.start();
  let ops: OpsServer;
  try {
    ops = await startOpsServer({ ...opts.admin, registry: opts.registry, ready: parts.ready, logger: log });
  } catch (err) {
    await parts.server.close();
    await parts.close();
    throw err;
  }

  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  const onSignal = (signal: NodeJS.Signals) => {
    if (running) {
      log.warn({ signal }, `${opts.name}: shutdown already in progress`);
      return;
    }
    void shutdown(signal).then((clean) => exit(clean ? 0 : 1));
  };

  let running: Promise<boolean> | undefined;
  const shutdown = (reason: string): Promise<boolean> => {
    if (running) {
      log.info({ reason }, `${opts.name}: shutdown already in progress`);
      return running;
    }
    log.info({ reason }, `${opts.name}: shutting down`);
    ops.setDraining();
    const steps = (async () => {
      await parts.server.close();
      await parts.close();
      await ops.close();
      return true;
    })().catch((err: unknown) => {
      log.error({ err }, `${opts.name}: shutdown failed`);
      return false;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        log.error({ timeoutMs }, `${opts.name}: shutdown timed out`);
        resolve(false);
      }, timeoutMs);
    });
    running = Promise.race([steps, timeout]).finally(() => {
      clearTimeout(timer);
      for (const s of signals) process.off(s, onSignal);
      log.info(`${opts.name}: stopped`);
    });
    return running;
  };

  for (const s of signals) process.on(s, onSignal);
  log.info({ grpcPort: parts.server.port, adminPort: ops.port }, `${opts.name}: running`);
  return { grpcPort: parts.server.port, adminPort: ops.port, shutdown };
}

/**
 * A /readyz check from named probes: ready when every probe resolves (to anything but false)
 * and none throws. The failing probes are logged, so a 503 says which backend is down.
 */
export function readiness(
  probes: Record<string, () => Promise<unknown>>,
  logger?: Logger,
): () => Promise<boolean> {
  return async () => {
    const results = await Promise.all(
      Object.entries(probes).map(async ([name, probe]) => {
        try {
          if ((await probe()) === false) return name;
        } catch (err) {
          logger?.warn({ err, backend: name }, 'readiness probe failed');
          return name;
        }
        return null;
      }),
    );
    const down = results.filter((n) => n !== null);
    if (down.length > 0) logger?.warn({ down }, 'not ready');
    return down.length === 0;
  };
}

/** The port of a host:port address (IM_MESSAGE_ADDR etc.); a service listens on 0.0.0.0:<that port>. */
export function portOf(address: string): number {
  const i = address.lastIndexOf(':');
  const digits = address.slice(i + 1);
  const port = Number(digits);
  if (i < 0 || !/^\d{1,5}$/.test(digits) || port > 65_535) {
    throw new RangeError(`expected host:port, got "${address}"`);
  }
  return port;
}
