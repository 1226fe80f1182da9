/**
 * The WebSocket listener (protocol.md §1 WebSocket transport): RFC 6455 at path /im with the
 * subprotocol im.v1, on config.edge.wsPort; `wss` when the TLS files are set (the same
 * certificate as the TLS port). Anything else on this port gets an HTTP status with a reason:
 * 404 for another path, 400 without the subprotocol, 426 for a plain HTTP request.
 *
 * A message larger than a frame header plus the body limit is refused by the WebSocket layer
 * before it is buffered (close code 1009, docs/protocol.md §8.15); within that, the Connection's
 * decoder applies the same checks as on TCP.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '@im/core';
import { HEADER_LENGTH } from '@im/protocol';
import { WebSocketServer } from 'ws';
import type { ClientTransport } from './transport.js';
import { WsTransport } from './transport.ws.js';

export const WS_PATH = '/im';
export const WS_SUBPROTOCOL = 'im.v1';

export interface WsListenerOptions {
  config: Config;
  /** wss with these PEM files; null: plain ws. */
  tls: { certFile: string; keyFile: string } | null;
  onTransport(t: ClientTransport): void;
  /** The per-IP guard on the raw TCP accept: false = refused (the socket is already destroyed). */
  admit(socket: Socket): boolean;
}

/** The HTTP(S) server carrying the upgrades; listen() is the caller's. */
export function createWsServer(opts: WsListenerOptions): Server {
  const { edge } = opts.config;
  const secure = opts.tls !== null;
  const server: Server = opts.tls
    ? createHttpsServer({
        cert: readFileSync(opts.tls.certFile),
        key: readFileSync(opts.tls.keyFile),
        minVersion: 'TLSv1.2',
        handshakeTimeout: edge.frameDeadlineMs,
      })
    : createHttpServer();
  // The upgrade request is a started frame too: it must be complete within the frame deadline.
  server.headersTimeout = edge.frameDeadlineMs;
  server.requestTimeout = edge.frameDeadlineMs;
  // 'connection' is the raw TCP accept (before a TLS handshake), where the per-IP guard belongs.
  server.prependListener('connection', (socket: Socket) => void opts.admit(socket));

  const wss = new WebSocketServer({
    noServer: true,
    // protocol.md §1: the body limit, refused before the message is buffered.
    maxPayload: HEADER_LENGTH + edge.maxBodyBytes,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (offered) => (offered.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });

  server.on('request', (_req, res) => {
    const body = `this port speaks the IM protocol over WebSocket: ${secure ? 'wss' : 'ws'}://<host>:<port>${WS_PATH}, subprotocol ${WS_SUBPROTOCOL}\n`;
    res.writeHead(426, {
      'content-type': 'text/plain; charset=utf-8',
      upgrade: 'websocket',
      connection: 'close',
    });
    res.end(body);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://edge').pathname;
    if (path !== WS_PATH) {
      refuse(socket, 404, 'Not Found', `the IM WebSocket endpoint is ${WS_PATH}`);
      return;
    }
    if (!offeredProtocols(req).includes(WS_SUBPROTOCOL)) {
      refuse(socket, 400, 'Bad Request', `the WebSocket subprotocol ${WS_SUBPROTOCOL} is required`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) =>
      opts.onTransport(new WsTransport(ws, socket as Socket, secure ? 'wss' : 'ws')),
    );
  });
  return server;
}

function offeredProtocols(req: IncomingMessage): string[] {
  const raw = req.headers['sec-websocket-protocol'];
  return (raw ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** An HTTP answer on a socket that asked for an upgrade, then closed. */
function refuse(socket: Duplex, code: number, status: string, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${code} ${status}\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
