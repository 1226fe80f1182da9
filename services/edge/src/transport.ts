/**
 * What a Connection needs of its client socket, so TCP (or TLS) and WebSocket share every rule
 * of the protocol (protocol.md §1: "everything else in this contract is the same on both
 * transports"). transport.tcp.ts wraps a node:net / node:tls socket; transport.ws.ts a WebSocket
 * of the `ws` package over the upgraded socket.
 */

export type TransportKind = 'tcp' | 'tls' | 'ws' | 'wss';

export interface TransportHandlers {
  /**
   * Bytes from the client. A stream transport hands out chunks cut anywhere; a message transport
   * (`framing === 'message'`) hands out whole WebSocket messages, `binary` false for a text one.
   */
  data(bytes: Uint8Array, binary: boolean): void;
  /** The socket failed; 'close' follows. */
  error(err: Error): void;
  /** The socket is gone (once). */
  close(): void;
}

export interface ClientTransport {
  readonly kind: TransportKind;
  /** 'stream': frames may be split or coalesced (protocol.md §1); 'message': one frame per message. */
  readonly framing: 'stream' | 'message';
  /** "address:port" of the peer, for logs. */
  readonly remote: string;
  /** Bytes read from / written to the network so far, transport overhead included (metrics). */
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** Output accepted but not yet taken by the kernel: the slow-reader bound (protocol.md §6 Limits). */
  readonly writableLength: number;
  /** False once closing or closed: writes are dropped. */
  readonly writable: boolean;
  /** Set once, by the Connection that owns the transport. */
  start(handlers: TransportHandlers): void;
  /** Another listener of the close (the edge's connection table); called once, after the owner's. */
  onClose(listener: () => void): void;
  /** Holds writes until uncork(), so the frames of one turn leave in one write (write-flush.ts). */
  cork(): void;
  uncork(): void;
  /**
   * One frame: its 12-byte header, its body, and optionally more body behind it (an MPS's seq
   * field, so the shared message bytes need no copy to append it). Never split across WebSocket
   * messages.
   */
  writeFrame(header: Uint8Array, body: Uint8Array, tail?: Uint8Array | null): void;
  /** Flushes what was written, then closes (TCP FIN, WebSocket close 1000). */
  end(): void;
  /** Closes at once, unsent bytes dropped. */
  destroy(): void;
  /** Stops reading (the request queue is full), and starts again. */
  pause(): void;
  resume(): void;
}
