import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface OpsServerOptions {
  host: string;
  /** config.admin.port; 0 picks a free port (tests). */
  port: number;
  /** Served on /metrics. */
  registry: Registry;
  /** /readyz: are the backends this process needs reachable? */
  ready: () => Promise<boolean>;
  /** A readiness check slower than this counts as not ready. Default 2000. */
  readyTimeoutMs?: number;
  logger?: Logger;
}

export interface OpsServer {
  readonly port: number;
  /** From now on /readyz answers 503 (shutdown: the load balancer stops sending new work). */
  setDraining(): void;
  /** Idempotent. */
  close(): Promise<void>;
}

/**
 * The operations endpoints of a service process (protocol.md §7: health, readiness, /metrics):
 * /healthz 200 while the process runs; /readyz 200 when its backends answer, 503 otherwise and
 * while draining; /metrics in the Prometheus text format.
 */
export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 2_000;
  let draining = false;

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
    switch (path) {
      case '/healthz':
        return reply(200, 'ok\n');
      case '/readyz':
        if (draining) return reply(503, 'draining\n');
        return void withTimeout(opts.ready(), readyTimeoutMs).then(
          (ok) => reply(ok ? 200 : 503, ok ? 'ready\n' : 'backends unreachable\n'),
          (err: unknown) => {
            opts.logger?.warn({ err }, 'readiness check failed');
            reply(503, 'backends unreachable\n');
          },
        );
      case '/metrics':
        return void opts.registry.metrics().then(
          (text) => reply(200, text, opts.registry.contentType),
          (err: unknown) => {
            opts.logger?.error({ err }, 'metrics collection failed');
            reply(500, 'metrics unavailable\n');
          },
        );
      default:
        return reply(404, 'not found\n');
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    setDraining() {
      draining = true;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive scrapers would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function withTimeout(p: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
