/**
 * `Transport` over node:net, or node:tls when `endpoint.tls` is set (protocol.md §2 "Transport
 * security"). Header and body are written under cork() so they leave in one segment without a
 * concatenation copy.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ConnectionError } from './errors.js';
import type { Connector, Endpoint, Transport, TransportListener } from './transport.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export const nodeConnector: Connector = (endpoint) => connectNode(endpoint);

export function connectNode(endpoint: Endpoint): Promise<Transport> {
  const { host, port } = endpoint;
  const timeoutMs = endpoint.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const socket = endpoint.tls ? openTls(endpoint) : net.connect({ host, port });
    const readyEvent = endpoint.tls ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new ConnectionError(
          'UNREACHABLE',
          `cannot connect to ${host}:${port}: timed out after ${timeoutMs} ms`,
          {
            endpoint: `${host}:${port}`,
          },
        ),
      );
    }, timeoutMs);
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(connectError(host, port, err));
    };
    socket.once('error', onError);
    socket.once(readyEvent, () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.setNoDelay(true);
      resolve(new NodeTransport(socket));
    });
  });
}

function openTls(endpoint: Endpoint): tls.TLSSocket {
  const settings = typeof endpoint.tls === 'object' ? endpoint.tls : {};
  return tls.connect({
    host: endpoint.host,
    port: endpoint.port,
    ca: settings.ca,
    servername: settings.servername ?? (net.isIP(endpoint.host) ? undefined : endpoint.host),
    rejectUnauthorized: settings.rejectUnauthorized ?? true,
  });
}

function connectError(host: string, port: number, err: NodeJS.ErrnoException): ConnectionError {
  const endpoint = `${host}:${port}`;
  if (err.code === 'ECONNREFUSED') {
    return new ConnectionError('REFUSED', `cannot connect to ${endpoint}: connection refused`, {
      cause: err,
      endpoint,
    });
  }
  return new ConnectionError('UNREACHABLE', `cannot connect to ${endpoint}: ${err.code ?? err.message}`, {
    cause: err,
    endpoint,
  });
}

class NodeTransport implements Transport {
  private listener: TransportListener | undefined;
  private closed = false;
  private closeError: Error | undefined;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.listener?.data(chunk));
    socket.on('error', (err) => {
      this.closeError ??= err;
    });
    socket.on('close', () => this.onClose());
  }

  listen(listener: TransportListener): void {
    this.listener = listener;
  }

  write(header: Uint8Array, body: Uint8Array): boolean {
    if (this.closed || this.socket.destroyed) return false;
    this.socket.cork();
    this.socket.write(header);
    const ok = body.length > 0 ? this.socket.write(body) : true;
    this.socket.uncork();
    return ok;
  }

  end(): void {
    this.socket.end();
  }

  destroy(error?: Error): void {
    if (error) this.closeError ??= error;
    this.socket.destroy();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener?.close(this.closeError);
  }
}
