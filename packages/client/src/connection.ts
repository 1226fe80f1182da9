/**
 * One protocol connection: frames in and out over a Transport, requests matched to responses by
 * seq (protocol.md §1), a timeout per request. It knows nothing about sessions or messages — that
 * is ImClient's job — so tests and the bench can drive the raw protocol with it.
 */
import {
  Compression,
  codec,
  DEFAULT_MAX_BODY_LENGTH,
  DecryptError,
  Encrypt,
  encodeFrame,
  FLAG_ENCRYPT_MASK,
  FLAG_ENCRYPT_SHIFT,
  Flow,
  type Frame,
  FrameDecoder,
  frameAad,
  gunzipBody,
  MAX_SEQ,
  type PublicKeyInput,
  packFlag,
  rsaSeal,
  SessionCipher,
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
/**
 * What the server may answer an RSA LOGIN with in the clear: the refusals it gives before the
 * body is opened (rate limit, unusable flag, a body that does not unwrap, a backend down). Every
 * other answer — OK, UNAUTHORIZED... — comes sealed with the secret the LOGIN carried, so a plain
 * one is forged (docs/protocol.md §8.14).
 */
const RSA_PLAIN_ANSWERS: ReadonlySet<number> = new Set([
  Status.BAD_REQUEST,
  Status.TOO_MANY_REQUESTS,
  Status.UNSUPPORTED,
  Status.FRAME_TOO_LARGE,
  Status.UNAVAILABLE,
]);

export interface ConnectionOptions {
  /** Default timeout of `request()`; default 10 s. */
  requestTimeoutMs?: number;
  /** Largest body accepted from the server, before and after gunzip (protocol.md §1); default 1 MiB. */
  maxBodyLength?: number;
  /** For error messages, e.g. "127.0.0.1:7100". */
  label?: string;
  /**
   * This connection logs in with RSA (2) (protocol.md §2): until it holds the session secret, every
   * frame but the answer to its RSA LOGIN is refused (the connection closes with PROTOCOL), and a
   * plain answer to that LOGIN is believed only for the statuses the server gives before it could
   * open the body (RSA_PLAIN_ANSWERS). Default false.
   */
  sealed?: boolean;
}

export interface OpenOptions extends ConnectionOptions {
  /** How to open the byte pipe; default: node:net / node:tls (loaded lazily, so the core stays portable). */
  connector?: Connector;
}

export interface RequestOptions {
  timeoutMs?: number;
  /** Flag byte to send; default plain request (0). */
  flag?: number;
  /**
   * protocol.md §2 RSA (2): seal this request (a LOGIN) to the server's RSA public key with a fresh
   * session secret. If the response is OK the connection switches to AES (1) both ways.
   */
  rsa?: PublicKeyInput;
  /** The session secret the RSA request carries; default 32 fresh random bytes (fixed: test vectors only). */
  rsaSecret?: Uint8Array;
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
  private readonly sealed: boolean;
  private seq = 0;
  /** protocol.md §2 AES: set once an RSA LOGIN succeeded; every later request is sealed. */
  private cipher: SessionCipher | null = null;
  /** RSA LOGINs in flight by seq: their responses are sealed with the secret they carried. */
  private readonly candidates = new Map<number, SessionCipher>();
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
    this.sealed = opts.sealed ?? false;
    this.decoder = new FrameDecoder({ maxBodyLength: this.maxBodyLength });
    transport.listen({ data: (chunk) => this.onData(chunk), close: (err) => this.onClose(err) });
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /** True once an RSA LOGIN succeeded: frames travel AES-256-GCM sealed both ways (protocol.md §2). */
  get encrypted(): boolean {
    return this.cipher !== null;
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
      const flag = opts.flag ?? PLAIN_REQUEST_FLAG;
      if (opts.rsa !== undefined) {
        try {
          this.writeFrame(this.sealRsa(seq, command, flag, body, opts.rsa, opts.rsaSecret));
        } catch (err) {
          clearTimeout(timer);
          this.pending.delete(seq);
          reject(err);
        }
        return;
      }
      this.writeFrame(this.seal({ seq, command, flag, status: Status.OK, body }));
    });
  }

  /** Writes a frame that expects no response (LOGOUT), with the next seq. Returns the seq used. */
  send(command: number, body: Uint8Array = EMPTY, flag = PLAIN_REQUEST_FLAG): number {
    const seq = this.nextSeq();
    this.writeFrame(this.seal({ seq, command, flag, status: Status.OK, body }));
    return seq;
  }

  /**
   * protocol.md §2: on an encrypted connection every request is sealed: AES (1), or an end-to-end
   * MS that keeps encrypt = 3 (its data is sealed for the recipients, and the frame for the server
   * as well). The flag is set before sealing, because the AAD (header bytes 4..11) covers it.
   */
  private seal(f: Omit<Frame, 'version'>): Omit<Frame, 'version'> {
    if (!this.cipher) return f;
    const e2e = unpackFlag(f.flag).encrypt === Encrypt.E2E;
    const flag = withEncrypt(f.flag, e2e ? Encrypt.E2E : Encrypt.AES);
    return { ...f, flag, body: this.cipher.seal({ ...f, flag }, f.body) };
  }

  private sealRsa(
    seq: number,
    command: number,
    plainFlag: number,
    body: Uint8Array,
    serverKey: PublicKeyInput,
    secret?: Uint8Array,
  ): Omit<Frame, 'version'> {
    const flag = withEncrypt(plainFlag, Encrypt.RSA);
    const head = { seq, command, flag, status: Status.OK };
    const sealed = rsaSeal(serverKey, frameAad(head), body, { secret });
    this.candidates.set(seq, new SessionCipher(sealed.secret, 'client'));
    return { ...head, body: sealed.body };
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
   * protocol.md §2: receive order is decrypt → decompress → parse. Once the connection holds a
   * session secret, every frame must open with the s2c key whatever its encrypt bits (a delivered
   * end-to-end message keeps encrypt = 3 and is sealed too); anything else closes the connection
   * (no downgrade, no injection). Before that, a connection logging in with RSA takes only the
   * answer to its LOGIN (sealed with the secret the LOGIN carried, or one of RSA_PLAIN_ANSWERS).
   */
  private inflate(received: Frame): Frame | undefined {
    let frame = received;
    const flag = unpackFlag(frame.flag);
    const refuse = (why: string, cause?: unknown) => {
      this.destroy(new ConnectionError('PROTOCOL', `${this.label} ${why}`, { cause, endpoint: this.label }));
      return undefined;
    };
    const answersRsaLogin = flag.flow === Flow.RESPONSE && this.candidates.has(frame.seq);
    const cipher = this.cipher ?? (answersRsaLogin ? this.candidates.get(frame.seq) : undefined);
    if (this.cipher || flag.encrypt === Encrypt.AES) {
      if (!cipher) return refuse('sent an AES frame but no session key was agreed');
      try {
        frame = {
          ...frame,
          flag: flag.encrypt === Encrypt.E2E ? frame.flag : withEncrypt(frame.flag, Encrypt.NONE),
          body: cipher.open(frame, frame.body),
        };
      } catch (err) {
        if (!(err instanceof DecryptError)) throw err;
        return refuse(`sent a frame that does not open with the session key: ${err.message}`, err);
      }
    } else if (answersRsaLogin && !RSA_PLAIN_ANSWERS.has(frame.status)) {
      return refuse(`answered the RSA LOGIN in the clear with status ${frame.status}`);
    } else if (this.sealed && !answersRsaLogin) {
      return refuse(`sent a frame (command ${frame.command}) before the RSA LOGIN answer`);
    } else if (flag.encrypt !== Encrypt.NONE && flag.encrypt !== Encrypt.E2E) {
      return refuse(`sent a frame with encrypt=${flag.encrypt}`);
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
    // protocol.md §2 RSA: the secret becomes the session's only when the LOGIN succeeds, and before
    // the next frame is read (the pushes that follow the LOGIN response are already AES).
    const candidate = this.candidates.get(frame.seq);
    if (candidate) {
      this.candidates.delete(frame.seq);
      if (frame.status === Status.OK) this.cipher = candidate;
    }
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

function withEncrypt(flag: number, encrypt: number): number {
  return (flag & ~FLAG_ENCRYPT_MASK) | (encrypt << FLAG_ENCRYPT_SHIFT);
}

/** A missing or unparsable ErrorInfo still yields a typed error, with an empty reason. */
export function decodeErrorInfo(body: Uint8Array): { message: string; retryAfterMs: number } {
  try {
    return codec.ErrorInfo.decode(body);
  } catch {
    return { message: '', retryAfterMs: 0 };
  }
}
