/**
 * ClientTransport over a node:net or node:tls socket: a byte stream (protocol.md §1), so the
 * Connection's decoder cuts frames out of chunks. Each chunk of a frame is written as it is: with
 * the socket corked, the frames of a turn leave in one writev without a concatenation copy.
 */
import type { Socket } from 'node:net';
import type { ClientTransport, TransportHandlers, TransportKind } from './transport.js';
import { OverSocket } from './transport.socket.js';

export class TcpTransport extends OverSocket implements ClientTransport {
  readonly framing = 'stream';

  constructor(
    socket: Socket,
    readonly kind: TransportKind = 'tcp',
  ) {
    super(socket);
  }

  get writable(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }

  start(h: TransportHandlers): void {
    this.socket.on('data', (chunk: Buffer) => h.data(chunk, true));
    this.socket.on('error', (err) => h.error(err));
    this.socket.on('close', () => h.close());
  }

  onClose(listener: () => void): void {
    this.socket.once('close', listener);
  }

  writeFrame(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) if (chunk.length > 0) this.socket.write(chunk);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}
