/**
 * One protocol connection: frames in and out over a Transport, requests matched to responses by
 * seq (protocol.md §1), a timeout per request. It knows nothing about sessions or messages — that
 * is ImClient's job — so tests and the bench can drive the raw protocol with it.
 *
 * Encryption and gzip go through the Runtime (runtime.ts): answered at once in the Node build,
 * later in the browser build (WebCrypto, DecompressionStream). Frames keep their order either way:
 * while one is being sealed or opened, the ones behind it wait in line; a plain frame with nothing
 * ahead of it is written or handed out in the same turn.
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
  MAX_SEQ,
  packFlag,
  Status,
  unpackFlag,
} from '@im/protocol/portable';
import { TypedEmitter } from './emitter.js';
import { ConnectionError, RequestTimeoutError, statusError } from './errors.js';
import { type FrameCipher, rsaSeal, sessionCipher } from './frame-crypto.js';
import { type Awaitable, isPromise, type PublicKeyInput, type Runtime } from './runtime.js';
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
  /** Crypto, gzip and the default connector: set by the entry (`@im/client` or `@im/client/browser`). */
  runtime?: Runtime;
}

export interface OpenOptions extends ConnectionOptions {
  /** How to open the byte pipe; default: the runtime's (TCP/TLS on Node, WebSocket in a browser). */
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
  private readonly runtime: Runtime;
  private seq = 0;
  /** protocol.md §2 AES: set once an RSA LOGIN succeeded; every later request is sealed. */
  private cipher: FrameCipher | null = null;
  /** RSA LOGINs in flight by seq: their responses are sealed with the secret they carried. */
  private readonly candidates = new Map<number, FrameCipher>();
  /** Frames being sealed (outbound) or opened (inbound) by an asynchronous runtime; the rest queue behind. */
  private outbound: Promise<void> | null = null;
  private inbound: Promise<void> | null = null;
  private closeReason: Error | undefined;
  private closeEmitted = false;

  /** Opens a transport to `endpoint` and wraps it. Rejects with ConnectionError (REFUSED / UNREACHABLE). */
  static async open(endpoint: Endpoint, opts: OpenOptions = {}): Promise<Connection> {
    const connector = opts.connector ?? requireRuntime(opts.runtime).connector;
    const transport = await connector(endpoint);
    return new Connection(transport, { label: `${endpoint.host}:${endpoint.port}`, ...opts });
  }

  constructor(
    private readonly transport: Transport,
    opts: ConnectionOptions = {},
  ) {
    super();
    this.runtime = requireRuntime(opts.runtime);
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

  /** The runtime this connection seals, opens and inflates with ('node' or 'web'). */
  get runtimeName(): string {
    return this.runtime.name;
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
      const fail = (err: unknown) => {
        clearTimeout(timer);
        this.pending.delete(seq);
        reject(err);
      };
      try {
        const frame =
          opts.rsa !== undefined
            ? this.sealRsa(seq, command, flag, body, opts.rsa, opts.rsaSecret)
            : this.seal({ seq, command, flag, status: Status.OK, body });
        this.writeInOrder(frame, fail);
      } catch (err) {
        fail(err);
      }
    });
  }

  /** Writes a frame that expects no response (LOGOUT), with the next seq. Returns the seq used. */
  send(command: number, body: Uint8Array = EMPTY, flag = PLAIN_REQUEST_FLAG): number {
    const seq = this.nextSeq();
    this.writeInOrder(this.seal({ seq, command, flag, status: Status.OK, body }), (err) =>
      this.destroy(err instanceof Error ? err : undefined),
    );
    return seq;
  }

  /**
   * Writes frames in the order they were asked for: at once when nothing is being sealed ahead,
   * else behind it (an encrypted connection's `seq` must reach the server increasing, protocol.md §2).
   */
  private writeInOrder(frame: Awaitable<Omit<Frame, 'version'>>, onError: (err: unknown) => void): void {
    if (!isPromise(frame)) {
      if (!this.outbound) {
        this.writeFrame(frame);
        return;
      }
    } else {
      // Awaited only once the frames ahead are written: a rejection now must not count as unhandled.
      frame.catch(() => {});
    }
    const next = (this.outbound ?? Promise.resolve()).then(async () => {
      try {
        this.writeFrame(await frame);
      } catch (err) {
        onError(err);
      }
    });
    this.outbound = next;
    void next.then(() => {
      if (this.outbound === next) this.outbound = null;
    });
  }

  /**
   * protocol.md §2: on an encrypted connection every request is sealed: AES (1), or an end-to-end
   * MS that keeps encrypt = 3 (its data is sealed for the recipients, and the frame for the server
   * as well). The flag is set before sealing, because the AAD (header bytes 4..11) covers it.
   */
  private seal(f: Omit<Frame, 'version'>): Awaitable<Omit<Frame, 'version'>> {
    if (!this.cipher) return f;
    const e2e = unpackFlag(f.flag).encrypt === Encrypt.E2E;
    const flag = withEncrypt(f.flag, e2e ? Encrypt.E2E : Encrypt.AES);
    const sealed = this.cipher.seal({ ...f, flag }, f.body);
    return isPromise(sealed) ? sealed.then((body) => ({ ...f, flag, body })) : { ...f, flag, body: sealed };
  }

  private async sealRsa(
    seq: number,
    command: number,
    plainFlag: number,
    body: Uint8Array,
    serverKey: PublicKeyInput,
    secret?: Uint8Array,
  ): Promise<Omit<Frame, 'version'>> {
    const flag = withEncrypt(plainFlag, Encrypt.RSA);
    const head = { seq, command, flag, status: Status.OK };
    const sealed = await rsaSeal(this.runtime, serverKey, frameAad(head), body, { secret });
    // Ready before the LOGIN is written, so its answer can be opened as soon as it arrives.
    this.candidates.set(seq, await sessionCipher(this.runtime, sealed.secret, 'client'));
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
      if (this.inbound) {
        this.receiveLater(raw);
        continue;
      }
      const frame = this.inflate(raw);
      if (isPromise(frame)) {
        this.receiveLater(raw, frame);
        continue;
      }
      if (!frame) return;
      this.emit('frame', frame);
      this.route(frame);
    }
  }

  /** A frame behind one the runtime is still opening or inflating (or that one itself): in order. */
  private receiveLater(raw: Frame, started?: Promise<Frame | undefined>): void {
    // Awaited once the frames ahead are handed out: a rejection now must not count as unhandled.
    started?.catch(() => {});
    const next = (this.inbound ?? Promise.resolve()).then(async () => {
      if (this.closeReason) return;
      try {
        const frame = await (started ?? this.inflate(raw));
        if (!frame || this.closeReason) return;
        this.emit('frame', frame);
        this.route(frame);
      } catch (err) {
        // A bug, not the server's doing: the line would stall behind it, so the connection ends.
        this.destroy(err instanceof Error ? err : new Error(String(err)));
      }
    });
    this.inbound = next;
    void next.then(() => {
      if (this.inbound === next) this.inbound = null;
    });
  }

  /**
   * protocol.md §2: receive order is decrypt → decompress → parse. Once the connection holds a
   * session secret, every frame must open with the s2c key whatever its encrypt bits (a delivered
   * end-to-end message keeps encrypt = 3 and is sealed too); anything else closes the connection
   * (no downgrade, no injection). Before that, a connection logging in with RSA takes only the
   * answer to its LOGIN (sealed with the secret the LOGIN carried, or one of RSA_PLAIN_ANSWERS).
   * Undefined when the frame was refused (the connection is then closed).
   */
  private inflate(received: Frame): Awaitable<Frame | undefined> {
    const flag = unpackFlag(received.flag);
    const answersRsaLogin = flag.flow === Flow.RESPONSE && this.candidates.has(received.seq);
    const cipher = this.cipher ?? (answersRsaLogin ? this.candidates.get(received.seq) : undefined);
    if (this.cipher || flag.encrypt === Encrypt.AES) {
      if (!cipher) return this.refuse('sent an AES frame but no session key was agreed');
      const opened = this.attempt(
        () => cipher.open(received, received.body),
        (err) =>
          err instanceof DecryptError
            ? this.refuse(`sent a frame that does not open with the session key: ${err.message}`, err)
            : Promise.reject(err),
      );
      const openedFlag =
        flag.encrypt === Encrypt.E2E ? received.flag : withEncrypt(received.flag, Encrypt.NONE);
      const plain = (body: Uint8Array | undefined) =>
        body === undefined
          ? undefined
          : this.decompress({ ...received, flag: openedFlag, body }, flag.compression);
      return isPromise(opened) ? opened.then(plain) : plain(opened);
    }
    if (answersRsaLogin && !RSA_PLAIN_ANSWERS.has(received.status)) {
      return this.refuse(`answered the RSA LOGIN in the clear with status ${received.status}`);
    }
    if (this.sealed && !answersRsaLogin) {
      return this.refuse(`sent a frame (command ${received.command}) before the RSA LOGIN answer`);
    }
    if (flag.encrypt !== Encrypt.NONE && flag.encrypt !== Encrypt.E2E) {
      return this.refuse(`sent a frame with encrypt=${flag.encrypt}`);
    }
    return this.decompress(received, flag.compression);
  }

  /** protocol.md §1: gzip bodies are inflated with the body limit. */
  private decompress(frame: Frame, compression: number): Awaitable<Frame | undefined> {
    if (compression === Compression.NONE) return frame;
    if (compression !== Compression.GZIP) return this.refuse(`sent compression ${compression}`);
    const body = this.attempt(
      () => this.runtime.gunzip(frame.body, this.maxBodyLength),
      (err) => this.refuse(`sent a bad gzip body: ${(err as Error).message}`, err),
    );
    return isPromise(body) ? body.then((b) => b && { ...frame, body: b }) : body && { ...frame, body };
  }

  /** `step()`, or `onError(err)` when it throws or rejects. */
  private attempt<T>(
    step: () => Awaitable<T>,
    onError: (err: unknown) => Awaitable<undefined>,
  ): Awaitable<T | undefined> {
    try {
      const v = step();
      return isPromise(v) ? v.catch(onError) : v;
    } catch (err) {
      return onError(err);
    }
  }

  /** A frame the client does not accept: the connection is closed with PROTOCOL (protocol.md §2). */
  private refuse(why: string, cause?: unknown): undefined {
    this.destroy(new ConnectionError('PROTOCOL', `${this.label} ${why}`, { cause, endpoint: this.label }));
    return undefined;
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

function requireRuntime(runtime: Runtime | undefined): Runtime {
  if (!runtime) {
    throw new TypeError('no runtime: import Connection from @im/client (Node) or @im/client/browser');
  }
  return runtime;
}
