/**
 * ClientTransport over a node:net or node:tls socket: a byte stream (protocol.md §1), so the
 * Connection's decoder cuts frames out of chunks.
 *
 * Corked (the rest of an event-loop turn, write-flush.ts), the frames' pieces are only collected;
 * uncork() sends them with ONE socket.write: copied into one buffer while the turn's output is small
 * (headers, acks and messages of a few hundred bytes: a copy costs less than what the stream spends
 * per chunk — an entry in its buffer, a Buffer view of each Uint8Array, an iovec), or as they are,
 * in one writev, once it passes COPY_MAX_BYTES (a large body is never copied to prepend 12 bytes).
 */
import type { Socket } from 'node:net';
import type { ClientTransport, TransportHandlers, TransportKind } from './transport.js';
import { OverSocket } from './transport.socket.js';

/** Up to this many bytes of a turn's output are joined into one buffer; more go as a writev. */
const COPY_MAX_BYTES = 64 * 1024;

export class TcpTransport extends OverSocket implements ClientTransport {
  readonly framing = 'stream';
  /** Pieces written while corked (null: not corked), and their total length. */
  private pending: Uint8Array[] | null = null;
  private pendingBytes = 0;

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

  /** What the socket holds unsent, and what this turn has not handed to it yet. */
  override get writableLength(): number {
    return this.socket.writableLength + this.pendingBytes;
  }

  override cork(): void {
    this.pending ??= [];
  }

  override uncork(): void {
    const pieces = this.pending;
    const bytes = this.pendingBytes;
    this.pending = null;
    this.pendingBytes = 0;
    if (!pieces || pieces.length === 0 || this.socket.destroyed) return;
    if (pieces.length === 1) {
      this.socket.write(pieces[0] as Uint8Array);
    } else if (bytes <= COPY_MAX_BYTES) {
      const out = Buffer.allocUnsafe(bytes);
      let at = 0;
      for (const p of pieces) {
        out.set(p, at);
        at += p.length;
      }
      this.socket.write(out);
    } else {
      this.socket.cork();
      for (const p of pieces) this.socket.write(p);
      this.socket.uncork();
    }
  }

  writeFrame(header: Uint8Array, body: Uint8Array, tail?: Uint8Array | null): void {
    const pieces = this.pending;
    if (!pieces) {
      // Not corked (the Connection always corks first; kept for any other writer): one writev.
      this.socket.cork();
      this.socket.write(header);
      if (body.length > 0) this.socket.write(body);
      if (tail && tail.length > 0) this.socket.write(tail);
      this.socket.uncork();
      return;
    }
    pieces.push(header);
    this.pendingBytes += header.length;
    if (body.length > 0) {
      pieces.push(body);
      this.pendingBytes += body.length;
    }
    if (tail && tail.length > 0) {
      pieces.push(tail);
      this.pendingBytes += tail.length;
    }
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
