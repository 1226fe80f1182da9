/**
 * One protocol connection: frames in and out over a Transport, requests matched to responses by
 * seq (protocol.md §1), a timeout per request. It knows nothing about sessions or messages — that
 * is ImClient's job — so tests and the bench can drive the raw protocol with it.
 */
import {
  Compression,
  codec,
  DEFAULT_MAX_BODY_LENGTH,
  Encrypt,
  encodeFrame,
  Flow,
  type Frame,
  FrameDecoder,
  gunzipBody,
  MAX_SEQ,
  packFlag,
  Status,
  unpackFlag,
} from '@im/protocol';
import { TypedEmitter } from './emitter.js';
import { ConnectionError, RequestTimeoutError, statusError } from './errors.js';
import type { Connector, Endpoint, Transport } from './transport.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const EMPTY = new Uint8Array(0);
/** flow = request, no compression, no encryption (protocol.md §2). */
const PLAIN_REQUEST_FLAG = packFlag({ flow: Flow.REQUEST });

export interface ConnectionOptions {
  /** Default timeout of `request()`; default 10 s. */
  requestTimeoutMs?: number;
  /** Largest body accepted from the server, before and after gunzip (protocol.md §1); default 1 MiB. */
  maxBodyLength?: number;
  /** For error messages, e.g. "127.0.0.1:7100". */
  label?: string;
}

export interface OpenOptions extends ConnectionOptions {
  /** How to open the byte pipe; default: node:net / node:tls (loaded lazily, so the core stays portable). */
  connector?: Connector;
}

export interface RequestOptions {
  timeoutMs?: number;
  /** Flag byte to send; default plain request (0). */
  flag?: number;
}

export interface ConnectionEvents {
  /** Every frame from the server, before it is routed (bench, tests). Bodies are already inflated. */
  frame: [frame: Frame];
  /** flow = notify frames: MPS, MN, and the LOGOUT notify with status KICKED (protocol.md §4, §6). */
  notify: [frame: Frame];
  /** Exactly once. `reason` says why (ConnectionError, or the error the connection was destroyed with). */
  close: [reason: Error];
}

interface Pending {
  command: number;
  resolve(frame: Frame): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class Connection extends TypedEmitter<ConnectionEvents> {
  readonly label: string;
  private readonly decoder: FrameDecoder;
  private readonly pending = new Map<number, Pending>();
  private readonly requestTimeoutMs: number;
  private readonly maxBodyLength: number;
  private seq = 0;
  private closeReason: Error | undefined;
  private closeEmitted = false;

  /** Opens a transport to `endpoint` and wraps it. Rejects with ConnectionError (REFUSED / UNREACHABLE). */
  static async open(endpoint: Endpoint, opts: OpenOptions = {}): Promise<Connection> {
    const connector = opts.connector ?? (await import('./transport.node.js')).nodeConnector;
    const transport = await connector(endpoint);
    return new Connection(transport, { label: `${endpoint.host}:${endpoint.port}`, ...opts });
  }

  constructor(
    private readonly transport: Transport,
    opts: ConnectionOptions = {},
  ) {
    super();
    this.label = opts.label ?? 'server';
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxBodyLength = opts.maxBodyLength ?? DEFAULT_MAX_BODY_LENGTH;
    this.decoder = new FrameDecoder({ maxBodyLength: this.maxBodyLength });
    transport.listen({ data: (chunk) => this.onData(chunk), close: (err) => this.onClose(err) });
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Requests waiting for a response. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** The next request seq: a per-connection counter starting at 1 (protocol.md §1). */
  nextSeq(): number {
    this.seq = this.seq >= MAX_SEQ ? 1 : this.seq + 1;
    return this.seq;
  }

  /**
   * Sends a request and resolves with the OK response frame. A non-OK status rejects with the typed
   * ImStatusError (reason from ErrorInfo); no response in time rejects with RequestTimeoutError; a
   * connection that closes first rejects with the close reason (ConnectionError CLOSED by default).
   */
  request(command: number, body: Uint8Array = EMPTY, opts: RequestOptions = {}): Promise<Frame> {
    if (this.closeReason) return Promise.reject(this.closeReason);
    const seq = this.nextSeq();
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new RequestTimeoutError(command, timeoutMs));
      }, timeoutMs);
      this.pending.set(seq, { command, resolve, reject, timer });
      this.writeFrame({ seq, command, flag: opts.flag ?? PLAIN_REQUEST_FLAG, status: Status.OK, body });
    });
  }

  /** Writes a frame that expects no response (LOGOUT), with the next seq. Returns the seq used. */
  send(command: number, body: Uint8Array = EMPTY, flag = PLAIN_REQUEST_FLAG): number {
    const seq = this.nextSeq();
    this.writeFrame({ seq, command, flag, status: Status.OK, body });
    return seq;
  }

  /** Writes any frame as given (tests of malformed input, the bench). False if closed or backed up. */
  writeFrame(frame: Omit<Frame, 'version'> & { version?: number }): boolean {
    if (this.closeReason) return false;
    const [header, body] = encodeFrame(frame);
    return this.transport.write(header, body);
  }

  /** Flushes and closes; pending requests reject with ConnectionError CLOSED. */
  close(): void {
    this.transport.end();
  }

  /** Closes at once; pending requests and the `close` event get `reason` (default ConnectionError CLOSED). */
  destroy(reason?: Error): void {
    this.closeReason ??= reason ?? this.closedError('closed by the client');
    this.transport.destroy();
    // A transport that was already closed will not call back again.
    queueMicrotask(() => this.finish());
  }

  private onData(chunk: Uint8Array): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.destroy(
        new ConnectionError('PROTOCOL', `bad frame from ${this.label}: ${(err as Error).message}`, {
          cause: err,
          endpoint: this.label,
        }),
      );
      return;
    }
    for (const raw of frames) {
      if (this.closeReason) return;
      const frame = this.inflate(raw);
      if (!frame) return;
      this.emit('frame', frame);
      this.route(frame);
    }
  }

  /**
   * protocol.md §2: receive order is decrypt → decompress → parse. This SDK negotiates no session
   * encryption (AES/RSA), so the server never uses it here; encrypt = 3 (end-to-end) marks a delivered
   * message whose body is a plain Message with sealed `data`, so it passes through untouched.
   */
  private inflate(frame: Frame): Frame | undefined {
    const flag = unpackFlag(frame.flag);
    if (flag.encrypt !== Encrypt.NONE && flag.encrypt !== Encrypt.E2E) {
      this.destroy(
        new ConnectionError(
          'PROTOCOL',
          `${this.label} sent an encrypted frame (encrypt=${flag.encrypt}); this client does not negotiate encryption`,
        ),
      );
      return undefined;
    }
    if (flag.compression === Compression.NONE) return frame;
    if (flag.compression !== Compression.GZIP) {
      this.destroy(new ConnectionError('PROTOCOL', `${this.label} sent compression ${flag.compression}`));
      return undefined;
    }
    try {
      return { ...frame, body: gunzipBody(frame.body, this.maxBodyLength) };
    } catch (err) {
      this.destroy(
        new ConnectionError('PROTOCOL', `bad gzip body from ${this.label}: ${(err as Error).message}`, {
          cause: err,
        }),
      );
      return undefined;
    }
  }

  private route(frame: Frame): void {
    const flow = unpackFlag(frame.flag).flow;
    if (flow === Flow.NOTIFY) {
      this.emit('notify', frame);
      return;
    }
    if (flow !== Flow.RESPONSE) return;
    const p = this.pending.get(frame.seq);
    if (!p) return; // late response to a request that timed out
    this.pending.delete(frame.seq);
    clearTimeout(p.timer);
    if (frame.status === Status.OK) {
      p.resolve(frame);
    } else {
      // protocol.md §3: every non-zero status carries an ErrorInfo.
      p.reject(statusError(frame.status, decodeErrorInfo(frame.body), p.command));
    }
  }

  private onClose(err?: Error): void {
    this.closeReason ??= err
      ? new ConnectionError('CLOSED', `connection to ${this.label} broke: ${err.message}`, {
          cause: err,
          endpoint: this.label,
        })
      : this.closedError('closed by the server');
    this.finish();
  }

  private finish(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    const reason = this.closeReason ?? this.closedError('closed');
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    this.pending.clear();
    this.emit('close', reason);
  }

  private closedError(why: string): ConnectionError {
    return new ConnectionError('CLOSED', `connection to ${this.label} ${why}`, { endpoint: this.label });
  }
}

/** A missing or unparsable ErrorInfo still yields a typed error, with an empty reason. */
export function decodeErrorInfo(body: Uint8Array): { message: string; retryAfterMs: number } {
  try {
    return codec.ErrorInfo.decode(body);
  } catch {
    return { message: '', retryAfterMs: 0 };
  }
}
