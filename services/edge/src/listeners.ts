/**
 * The edge's listening sockets: the plain TCP port and/or the TLS port (protocol.md §2 Transport
 * security; config edge.plain, edge.tlsPort, edge.tlsCertFile/tlsKeyFile). Both hand their sockets
 * to the same connection handler; the per-IP guard runs on the raw TCP accept, before a TLS
 * handshake costs anything.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Config } from '@im/core';
import type { EdgeLogger } from './context.js';
import { IpGuard } from './limits/ip-guard.js';

export interface Listening {
  /** The plain port, if listening plain. */
  port?: number;
  /** The TLS port, if listening with TLS. */
  tlsPort?: number;
  /** Stops accepting on both (open connections are not touched). */
  close(): void;
}

/** Per-IP refusals are logged at most this often per listener, so a storm cannot flood the log. */
const REFUSAL_LOG_EVERY_MS = 5_000;

export function tlsEnabled(edge: Config['edge']): boolean {
  return edge.tlsCertFile !== '' && edge.tlsKeyFile !== '';
}

export async function openListeners(
  config: Config,
  onSocket: (socket: Socket) => void,
  logger: EdgeLogger,
  guard: IpGuard = new IpGuard(config.edge),
): Promise<Listening> {
  const { edge } = config;
  if (!edge.plain && !tlsEnabled(edge)) {
    throw new Error(
      'the edge has nothing to listen on: IM_EDGE_PLAIN=false needs IM_TLS_CERT_FILE and IM_TLS_KEY_FILE',
    );
  }
  if ((edge.tlsCertFile === '') !== (edge.tlsKeyFile === '')) {
    throw new Error('TLS needs both IM_TLS_CERT_FILE and IM_TLS_KEY_FILE');
  }
  let lastLog = Number.NEGATIVE_INFINITY;
  let refusedSinceLog = 0;
  /** True if the socket may proceed; counts it against its address until it closes. */
  const admit = (socket: Socket): boolean => {
    const verdict = guard.admit(socket.remoteAddress);
    if (!verdict.ok) {
      refusedSinceLog++;
      const now = performance.now();
      if (now - lastLog >= REFUSAL_LOG_EVERY_MS) {
        logger.warn(
          { address: verdict.key, refused: refusedSinceLog },
          `connection refused: ${verdict.reason}`,
        );
        lastLog = now;
        refusedSinceLog = 0;
      }
      socket.destroy();
      return false;
    }
    socket.once('close', () => guard.release(verdict.key));
    return true;
  };

  const servers: Server[] = [];
  const out: Listening = {
    close() {
      for (const s of servers) s.close();
    },
  };
  try {
    if (edge.plain) {
      const srv = createServer({ noDelay: true }, (socket) => {
        if (admit(socket)) onSocket(socket);
      });
      out.port = await listenOn(srv, edge.port, edge.host, logger, 'edge listener');
      servers.push(srv);
    }
    if (tlsEnabled(edge)) {
      const srv = createTlsServer(
        {
          cert: readFileSync(edge.tlsCertFile),
          key: readFileSync(edge.tlsKeyFile),
          minVersion: 'TLSv1.2',
          // A handshake is a started frame too: it must complete within the frame deadline.
          handshakeTimeout: edge.frameDeadlineMs,
          noDelay: true,
        },
        onSocket,
      );
      // 'connection' is the raw TCP accept, before the handshake.
      srv.prependListener('connection', (socket: Socket) => void admit(socket));
      srv.on('tlsClientError', (err) =>
        logger.debug({ err: err.message }, 'TLS handshake failed (a plain client on the TLS port?)'),
      );
      out.tlsPort = await listenOn(srv, edge.tlsPort, edge.host, logger, 'edge TLS listener');
      servers.push(srv);
    }
  } catch (err) {
    out.close();
    throw err;
  }
  return out;
}

function listenOn(
  srv: Server,
  port: number,
  host: string,
  logger: EdgeLogger,
  name: string,
): Promise<number> {
  srv.on('error', (err) => logger.error({ err }, `${name} error`));
  return new Promise<number>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => {
      srv.off('error', reject);
      const address = srv.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
