/** An in-memory Transport: what the SDK writes is recorded, what the test feeds is "received". */
import type { Connector, Transport, TransportListener } from '../../src/index.js';
import { waitFor } from './wait.js';

export class MemoryTransport implements Transport {
  readonly written: Uint8Array[] = [];
  onWrite: ((bytes: Uint8Array) => void) | undefined;
  private listener: TransportListener | undefined;
  closed = false;

  listen(listener: TransportListener): void {
    this.listener = listener;
  }

  write(header: Uint8Array, body: Uint8Array): boolean {
    const bytes = new Uint8Array(header.length + body.length);
    bytes.set(header, 0);
    bytes.set(body, header.length);
    this.written.push(bytes);
    this.onWrite?.(bytes);
    return true;
  }

  /**
   * The i-th frame written, once it is: a browser-build connection seals with WebCrypto, so a
   * request reaches the transport a few microtasks after request() returned.
   */
  async nth(i: number): Promise<Uint8Array> {
    return waitFor(`frame #${i} written`, () => this.written[i]);
  }

  /** Bytes from the "server". */
  feed(bytes: Uint8Array): void {
    this.listener?.data(bytes);
  }

  end(): void {
    this.peerClose();
  }

  destroy(): void {
    this.peerClose();
  }

  peerClose(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.listener?.close(error));
  }
}

/** A connector handing out MemoryTransports; `last` is the most recent one. */
export function memoryConnector(setup?: (t: MemoryTransport) => void): {
  connector: Connector;
  transports: MemoryTransport[];
} {
  const transports: MemoryTransport[] = [];
  return {
    transports,
    connector: async () => {
      const t = new MemoryTransport();
      setup?.(t);
      transports.push(t);
      return t;
    },
  };
}
