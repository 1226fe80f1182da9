/**
 * A raw frame client for end-to-end tests: it writes arbitrary bytes (broken frames included)
 * and reads the server's frames with the protocol's stream decoder. It knows nothing of the
 * session rules, so a test states every step it relies on.
 *
 * Over TCP (connect) or WebSocket (connectWs, protocol.md §1 WebSocket transport): on WebSocket
 * every write() is one binary message, and every message the server sends must be exactly one
 * frame (else `decodeError` is set and the client closes, as for a framing error on TCP).
 */
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import {
  encodeFrame,
  Flow,
  type Frame,
  FrameDecoder,
  PROTOCOL_VERSION,
  packFlag,
  unpackFlag,
} from '../../packages/protocol/src/index.js';

export interface OutFrame {
  command: number;
  body?: Uint8Array;
  /** Default: the client's next request seq. */
  seq?: number;
  /** Raw flag byte; default flow = 0 (request), nothing else set. */
  flag?: number;
  version?: number;
  status?: number;
}

type Predicate = (f: Frame) => boolean;

interface Waiter {
  pred: Predicate;
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_WAIT_MS = 5_000;

/** Where a raw client connects: TCP by default, or the edge's WebSocket port. */
export interface RawEndpoint {
  host: string;
  port: number;
  transport?: 'tcp' | 'ws';
}

/** The byte pipe under a RawClient: a TCP socket, or a WebSocket whose messages are frames. */
interface Pipe {
  readonly framing: 'stream' | 'message';
  write(bytes: Uint8Array): void;
  /** WebSocket only: a text message. */
  writeText(text: string): void;
  destroy(): void;
  end(): void;
  pause(): void;
  resume(): void;
}

export class RawClient {
  /** Frames received and not yet taken by next(). */
  private readonly inbox: Frame[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly decoder = new FrameDecoder({ maxBodyLength: 64 * 1024 * 1024 });
  private seqCounter = 0;
  /** Every frame received, in order (taken or not). */
  readonly received: Frame[] = [];
  /** Resolves when the server (or we) closed the socket. */
  readonly closed: Promise<void>;
  isClosed = false;
  /** A framing error in what the server sent (a server bug). */
  decodeError: Error | null = null;

  private readonly pipe: Pipe;
  private markClosed: () => void = () => {};

  private constructor(open: (c: RawClient) => Pipe) {
    this.closed = new Promise((resolve) => {
      this.markClosed = () => {
        if (this.isClosed) return;
        this.isClosed = true;
        for (const w of this.waiters) {
          clearTimeout(w.timer);
          w.reject(new Error('connection closed while waiting for a frame'));
        }
        this.waiters.clear();
        resolve();
      };
    });
    this.pipe = open(this);
  }

  /** 'tcp' or 'ws'. */
  get transport(): 'tcp' | 'ws' {
    return this.pipe.framing === 'message' ? 'ws' : 'tcp';
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket: Socket = connect({ port, host }, () => {
        socket.off('error', reject);
        resolve(new RawClient((c) => c.overTcp(socket)));
      });
      socket.once('error', reject);
    });
  }

  /** A WebSocket client at ws://host:port/im with the subprotocol im.v1 (protocol.md §1). */
  static connectWs(
    port: number,
    host = '127.0.0.1',
    opts: { path?: string; protocols?: string[] } = {},
  ): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${host}:${port}${opts.path ?? '/im'}`, opts.protocols ?? ['im.v1']);
      ws.binaryType = 'nodebuffer';
      ws.once('open', () => {
        ws.off('error', reject);
        resolve(new RawClient((c) => c.overWs(ws)));
      });
      ws.once('error', reject);
    });
  }

  /** TCP or WebSocket, as the endpoint says. */
  static open(ep: RawEndpoint): Promise<RawClient> {
    return ep.transport === 'ws'
      ? RawClient.connectWs(ep.port, ep.host)
      : RawClient.connect(ep.port, ep.host);
  }

  private overTcp(socket: Socket): Pipe {
    socket.setNoDelay(true);
    socket.on('close', () => this.markClosed());
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => this.onBytes(new Uint8Array(chunk), () => socket.destroy()));
    return {
      framing: 'stream',
      write: (bytes) => void socket.write(bytes),
      writeText: () => {
        throw new Error('a text message needs a WebSocket client');
      },
      destroy: () => socket.destroy(),
      end: () => void socket.end(),
      pause: () => void socket.pause(),
      resume: () => void socket.resume(),
    };
  }

  private overWs(ws: WebSocket): Pipe {
    ws.on('close', () => this.markClosed());
    ws.on('error', () => {});
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        this.decodeError = new Error('the server sent a text WebSocket message');
        ws.terminate();
        return;
      }
      const before = this.received.length;
      this.onBytes(new Uint8Array(data), () => ws.terminate());
      // protocol.md §1: each message the server sends is exactly one frame.
      if (!this.decodeError && (this.received.length - before !== 1 || this.decoder.midFrame)) {
        this.decodeError = new Error(
          `a WebSocket message of ${data.length} bytes carried ${this.received.length - before} frames`,
        );
        ws.terminate();
      }
    });
    return {
      framing: 'message',
      write: (bytes) => ws.send(bytes, { binary: true }),
      writeText: (text) => ws.send(text, { binary: false }),
      destroy: () => ws.terminate(),
      end: () => ws.close(1000),
      pause: () => ws.pause(),
      resume: () => ws.resume(),
    };
  }

  private onBytes(chunk: Uint8Array, kill: () => void): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.decodeError = err as Error;
      kill();
      return;
    }
    for (const f of frames) {
      // The decoder hands out views into the chunk; keep a copy the test can hold on to.
      const frame = { ...f, body: new Uint8Array(f.body) };
      this.received.push(frame);
      this.offer(frame);
    }
  }

  /** Next request seq (protocol.md §1: the client numbers its requests from 1). */
  nextSeq(): number {
    this.seqCounter += 1;
    return this.seqCounter;
  }

  /** Writes raw bytes as they are (over WebSocket: as one binary message). */
  write(bytes: Uint8Array): void {
    this.pipe.write(bytes);
  }

  /** WebSocket only: sends `text` as a text message (which the edge refuses, protocol.md §1). */
  writeText(text: string): void {
    this.pipe.writeText(text);
  }

  /** Writes one frame (header and body in one write); returns its seq. */
  send(f: OutFrame): number {
    const seq = f.seq ?? this.nextSeq();
    const [header, body] = encodeFrame({
      version: f.version ?? PROTOCOL_VERSION,
      seq,
      command: f.command,
      flag: f.flag ?? packFlag({ flow: Flow.REQUEST }),
      status: f.status ?? 0,
      body: f.body ?? new Uint8Array(0),
    });
    this.pipe.write(Buffer.concat([header, body]));
    return seq;
  }

  /** Sends a request and waits for the response with its seq and command (flow = 1). */
  async request(f: OutFrame, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    const seq = this.send(f);
    return this.next((r) => isResponse(r) && r.seq === seq && r.command === f.command, timeoutMs);
  }

  /** The first received, not yet taken frame matching pred (waiting for it if needed). */
  next(pred: Predicate = () => true, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as Frame);
    if (this.isClosed) return Promise.reject(new Error('connection is closed'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`no matching frame within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Resolves true if the socket closes within timeoutMs. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Frames received and not taken yet. */
  pending(pred: Predicate = () => true): Frame[] {
    return this.inbox.filter(pred);
  }

  close(): void {
    this.pipe.destroy();
  }

  /** Half-close: we send FIN and keep reading (WebSocket: the closing handshake). */
  end(): void {
    this.pipe.end();
  }

  /** Stops reading from the socket (a client that does not read). */
  pauseReading(): void {
    this.pipe.pause();
  }

  resumeReading(): void {
    this.pipe.resume();
  }

  private offer(frame: Frame): void {
    for (const w of this.waiters) {
      if (w.pred(frame)) {
        this.waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(frame);
        return;
      }
    }
    this.inbox.push(frame);
  }
}

export function isResponse(f: Frame): boolean {
  return unpackFlag(f.flag).flow === Flow.RESPONSE;
}

export function isNotify(f: Frame): boolean {
  return unpackFlag(f.flag).flow === Flow.NOTIFY;
}

/** A 12-byte header with every field given explicitly (for frames the encoder would refuse). */
export function rawHeader(h: {
  length: number;
  version?: number;
  seq: number;
  command: number;
  flag: number;
  status?: number;
}): Uint8Array {
  const out = new Uint8Array(12);
  const v = new DataView(out.buffer);
  v.setUint32(0, h.length);
  v.setUint8(4, h.version ?? 1);
  v.setUint32(5, h.seq);
  v.setUint8(9, h.command);
  v.setUint8(10, h.flag);
  v.setUint8(11, h.status ?? 0);
  return out;
}
