/**
 * `Transport` over the standard WebSocket API (browsers, and Node 24's global WebSocket):
 * protocol.md §1 WebSocket transport — `ws://host:port/im` (`wss` with `endpoint.tls`),
 * subprotocol im.v1, each frame one binary message both ways.
 */
import { ConnectionError } from './errors.js';
import type { Connector, Endpoint, Transport, TransportListener } from './transport.js';

export const WS_PATH = '/im';
export const WS_SUBPROTOCOL = 'im.v1';
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** RFC 6455 §7.4.1: normal closure. */
const CLOSE_NORMAL = 1000;
/** write() reports backpressure past this many unsent bytes (WebSocket.bufferedAmount). */
const HIGH_WATER_BYTES = 1024 * 1024;

export const webSocketConnector: Connector = (endpoint) => connectWebSocket(endpoint);

/** The URL of an endpoint: ws(s)://host:port/path, IPv6 hosts in brackets. */
export function webSocketUrl(endpoint: Endpoint): string {
  const host =
    endpoint.host.includes(':') && !endpoint.host.startsWith('[') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.tls ? 'wss' : 'ws'}://${host}:${endpoint.port}${endpoint.path ?? WS_PATH}`;
}

export function connectWebSocket(endpoint: Endpoint): Promise<Transport> {
  const WebSocketClass = globalThis.WebSocket;
  if (!WebSocketClass) return Promise.reject(new Error('this runtime has no WebSocket'));
  const url = webSocketUrl(endpoint);
  const label = `${endpoint.host}:${endpoint.port}`;
  const timeoutMs = endpoint.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocketClass(url, WS_SUBPROTOCOL);
    } catch (err) {
      reject(
        new ConnectionError('UNREACHABLE', `cannot connect to ${url}: ${(err as Error).message}`, {
          cause: err,
          endpoint: label,
        }),
      );
      return;
    }
    ws.binaryType = 'arraybuffer';
    const fail = (why: string) => {
      clearTimeout(timer);
      ws.onopen = ws.onerror = ws.onclose = null;
      ws.close();
      // A browser tells a script nothing more about a failed handshake (refused, 404, TLS...).
      reject(new ConnectionError('UNREACHABLE', `cannot connect to ${url}: ${why}`, { endpoint: label }));
    };
    const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
    ws.onerror = () => fail('the WebSocket handshake failed');
    ws.onclose = (e) => fail(`closed during the handshake (code ${e.code})`);
    ws.onopen = () => {
      clearTimeout(timer);
      ws.onopen = ws.onerror = ws.onclose = null;
      if (ws.protocol !== WS_SUBPROTOCOL) {
        ws.close();
        reject(
          new ConnectionError('PROTOCOL', `${url} did not agree on the subprotocol ${WS_SUBPROTOCOL}`, {
            endpoint: label,
          }),
        );
        return;
      }
      resolve(new WebSocketTransport(ws));
    };
  });
}

class WebSocketTransport implements Transport {
  private listener: TransportListener | undefined;
  private closed = false;

  constructor(private readonly ws: WebSocket) {
    ws.onmessage = (e: MessageEvent) => {
      if (typeof e.data === 'string') {
        // protocol.md §1: frames travel as binary messages only.
        this.destroy(new Error('the server sent a text WebSocket message'));
        return;
      }
      this.listener?.data(new Uint8Array(e.data as ArrayBuffer));
    };
    ws.onerror = () => {};
    ws.onclose = (e: CloseEvent) =>
      this.finish(
        e.code === CLOSE_NORMAL
          ? undefined
          : new Error(`WebSocket closed with code ${e.code}${e.reason ? `: ${e.reason}` : ''}`),
      );
  }

  listen(listener: TransportListener): void {
    this.listener = listener;
  }

  /** One frame, one message (protocol.md §1). */
  write(header: Uint8Array, body: Uint8Array): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    const frame = new Uint8Array(header.length + body.length);
    frame.set(header, 0);
    frame.set(body, header.length);
    this.ws.send(frame);
    return this.ws.bufferedAmount < HIGH_WATER_BYTES;
  }

  end(): void {
    this.ws.close(CLOSE_NORMAL);
  }

  /** A WebSocket cannot drop its socket from a script: the close handshake starts, and the Connection is told now. */
  destroy(error?: Error): void {
    this.ws.close(CLOSE_NORMAL);
    this.finish(error);
  }

  private finish(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.onmessage = null;
    this.listener?.close(error);
  }
}
