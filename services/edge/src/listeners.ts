/**
 * The edge's listening sockets: the plain TCP port and/or the TLS port (protocol.md §2 Transport
 * security; config edge.plain, edge.tlsPort, edge.tlsCertFile/tlsKeyFile), and the WebSocket port
 * (protocol.md §1 WebSocket transport; edge.ws, edge.wsPort; wss with the TLS files). All hand
 * their clients, as ClientTransports, to the same connection handler; the per-IP guard runs on the
 * raw TCP accept, before a TLS handshake or an HTTP upgrade costs anything.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Config } from '@im/core';
import type { EdgeLogger } from './context.js';
import { IpGuard } from './limits/ip-guard.js';
import { createWsServer } from './listener.ws.js';
import type { ClientTransport } from './transport.js';
import { TcpTransport } from './transport.tcp.js';

export interface Listening {
  /** The plain port, if listening plain. */
  port?: number;
  /** The TLS port, if listening with TLS. */
  tlsPort?: number;
  /** The WebSocket port (ws, or wss with TLS), if edge.ws is on. */
  wsPort?: number;
  /** Stops accepting on all of them (open connections are not touched). */
  close(): void;
}

/** Per-IP refusals are logged at most this often per listener, so a storm cannot flood the log. */
const REFUSAL_LOG_EVERY_MS = 5_000;

export function tlsEnabled(edge: Config['edge']): boolean {
  return edge.tlsCertFile !== '' && edge.tlsKeyFile !== '';
}

export async function openListeners(
  config: Config,
  onTransport: (transport: ClientTransport) => void,
  logger: EdgeLogger,
  guard: IpGuard = new IpGuard(config.edge),
): Promise<Listening> {
  const { edge } = config;
  if (!edge.plain && !tlsEnabled(edge) && !edge.ws) {
    throw new Error(
      'the edge has nothing to listen on: IM_EDGE_PLAIN=false needs IM_TLS_CERT_FILE and IM_TLS_KEY_FILE, or IM_EDGE_WS=true',
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
        if (admit(socket)) onTransport(new TcpTransport(socket, 'tcp'));
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
        (socket) => onTransport(new TcpTransport(socket, 'tls')),
      );
      // 'connection' is the raw TCP accept, before the handshake.
      srv.prependListener('connection', (socket: Socket) => void admit(socket));
      srv.on('tlsClientError', (err) =>
        logger.debug({ err: err.message }, 'TLS handshake failed (a plain client on the TLS port?)'),
      );
      out.tlsPort = await listenOn(srv, edge.tlsPort, edge.host, logger, 'edge TLS listener');
      servers.push(srv);
    }
    if (edge.ws) {
      const tls = tlsEnabled(edge) ? { certFile: edge.tlsCertFile, keyFile: edge.tlsKeyFile } : null;
      const srv = createWsServer({ config, tls, onTransport, admit });
      out.wsPort = await listenOn(srv, edge.wsPort, edge.host, logger, 'edge WebSocket listener');
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
