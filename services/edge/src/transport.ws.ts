/**
 * ClientTransport over a WebSocket (protocol.md §1 WebSocket transport): each binary message is
 * one whole frame, both ways. The Connection checks that a message is exactly one frame (the same
 * decoder as TCP); this side only hands whole messages in and writes each frame as one message.
 *
 * Writes go through the `ws` sender to the upgraded TCP socket, which is corked here for the rest
 * of the turn like a TCP client's (write-flush.ts): the frames of a turn leave in one writev. A
 * frame of several chunks is joined into one message (WebSocket framing needs the whole payload;
 * the copy is the price of a browser transport, the TCP path keeps its chunks).
 */
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import type { ClientTransport, TransportHandlers, TransportKind } from './transport.js';
import { OverSocket } from './transport.socket.js';

/** RFC 6455 §7.4.1: normal closure. */
const CLOSE_NORMAL = 1000;

export class WsTransport extends OverSocket implements ClientTransport {
  readonly framing = 'message';

  constructor(
    private readonly ws: WebSocket,
    /** The upgraded socket under `ws` (byte counts, unsent bytes, cork). */
    socket: Socket,
    readonly kind: TransportKind = 'ws',
  ) {
    super(socket);
  }

  get writable(): boolean {
    return this.ws.readyState === this.ws.OPEN && !this.socket.destroyed;
  }

  start(h: TransportHandlers): void {
    this.ws.on('message', (data: RawData, isBinary: boolean) => h.data(toBytes(data), isBinary));
    this.ws.on('error', (err) => h.error(err));
    this.ws.on('close', () => h.close());
  }

  onClose(listener: () => void): void {
    this.ws.once('close', listener);
  }

  writeFrame(header: Uint8Array, body: Uint8Array, tail?: Uint8Array | null): void {
    if (!this.writable) return;
    this.ws.send(Buffer.concat(tail ? [header, body, tail] : [header, body]), { binary: true });
  }

  end(): void {
    this.ws.close(CLOSE_NORMAL);
  }

  destroy(): void {
    this.ws.terminate();
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }
}

/** With the default binaryType ('nodebuffer') a message is one Buffer; the other shapes are joined. */
function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
