/**
 * The byte pipe under a Connection. The SDK core only sees this interface, so it never imports
 * `node:net`; `transport.node.ts` is the Node implementation (plain TCP or TLS, protocol.md §2
 * "Transport security"), `transport.ws.ts` the WebSocket one (protocol.md §1, browsers). An
 * in-memory pipe can implement it too.
 */

export interface TransportListener {
  /** Bytes as they arrive: any chunking — the Connection's decoder is a stream decoder (protocol.md §1). */
  data(chunk: Uint8Array): void;
  /** Called exactly once when the pipe is gone; `error` is set when it broke rather than ended. */
  close(error?: Error): void;
}

export interface Transport {
  /** Set once, right after the transport is handed to a Connection. */
  listen(listener: TransportListener): void;
  /** Writes one frame as header + body without concatenating them. Returns false when the pipe is backed up. */
  write(header: Uint8Array, body: Uint8Array): boolean;
  /** Flushes what was written, then closes. */
  end(): void;
  /** Closes at once, dropping unsent bytes. */
  destroy(error?: Error): void;
}

/** TLS settings that do not tie the core to `node:tls` types. */
export interface TlsSettings {
  /** PEM CA certificate(s) to trust, for a self-signed server. */
  ca?: string | string[];
  servername?: string;
  /** Default true. */
  rejectUnauthorized?: boolean;
}

export interface Endpoint {
  host: string;
  port: number;
  /** true = TLS with the system CAs; an object to tune it; absent/false = plain TCP. */
  tls?: boolean | TlsSettings;
  /** Give up on a connect attempt after this long. */
  connectTimeoutMs?: number;
  /** WebSocket transport only: the path of the endpoint; default /im (protocol.md §1). */
  path?: string;
}

/** Opens a transport; rejects with `ConnectionError` when the endpoint cannot be reached. */
export type Connector = (endpoint: Endpoint) => Promise<Transport>;
