/**
 * The parts of a ClientTransport that come from the TCP socket underneath, whatever speaks on it
 * (the IM stream itself, or WebSocket after the upgrade): the peer's address, byte counts, unsent
 * bytes, and the cork that makes a turn's frames leave in one writev (write-flush.ts).
 */
import type { Socket } from 'node:net';

export abstract class OverSocket {
  readonly remote: string;

  constructor(protected readonly socket: Socket) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
  }

  get bytesRead(): number {
    return this.socket.bytesRead;
  }

  get bytesWritten(): number {
    return this.socket.bytesWritten;
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    if (!this.socket.destroyed) this.socket.uncork();
  }
}
