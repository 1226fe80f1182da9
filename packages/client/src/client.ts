/**
 * ImClient: a logged-in session over a Connection, with heartbeat, reconnect, and inbox sync
 * (protocol.md §6). Sockets, crypto and gzip come from the Runtime the entry sets (runtime.ts):
 * TCP/TLS and node:crypto from `@im/client`, WebSocket and WebCrypto from `@im/client/browser`.
 */
import {
  type BodyInput,
  Command,
  ContentType,
  type Conversation,
  ConversationType,
  codec,
  Encrypt,
  Flow,
  type Frame,
  type LoginResponse,
  type Message,
  type MessageContent,
  type Notify,
  type PullResponse,
  packFlag,
  type SendAck,
  Status,
} from '@im/protocol/portable';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { Connection, DEFAULT_REQUEST_TIMEOUT_MS, decodeErrorInfo } from './connection.js';
import { single, textContent } from './content.js';
import { isSealedContent, openContentWith, sealContentWith } from './e2e.js';
import { TypedEmitter } from './emitter.js';
import {
  ConnectionError,
  ImStatusError,
  KickedError,
  RequestTimeoutError,
  TooManyRequestsError,
  UnauthorizedError,
  UnavailableError,
  withMessageId,
} from './errors.js';
import { InboxTracker } from './inbox.js';
import type { PrivateKeyInput, PublicKeyInput, Runtime } from './runtime.js';
import type { Connector, TlsSettings } from './transport.js';

export interface ImClientOptions {
  host: string;
  port: number;
  /**
   * Other addresses of the same cluster (edge nodes), tried after host:port: the client moves to
   * the next one when a connect fails, and at once when its edge drains (protocol.md §6 Shutdown).
   */
  endpoints?: { host: string; port: number }[];
  userId: string;
  /** A fixed JWT. Either this or getToken. */
  token?: string;
  /**
   * The token provider: called before every LOGIN (also on reconnect), so an expiring token can be
   * refreshed. When the server ends the session because its token expired (protocol.md §6
   * Session: LOGOUT notify UNAUTHORIZED), the client asks it for a fresh token and logs in again
   * at once, then resyncs from its last seq. With a fixed `token` it stops instead (`expired`).
   */
  getToken?: () => Promise<string>;
  /** Stable per installation: one live connection per (userId, deviceId) (protocol.md §6 Session). */
  deviceId: string;
  /** 0 unknown, 1 iOS, 2 Android, 3 Web, 4 desktop, 5 server/bot (protocol.md §5 LoginRequest). */
  platform?: number;
  clientVersion?: string;
  /** SPKI DER public key published at LOGIN, for end-to-end encryption (protocol.md §2, §5). */
  publicKey?: Uint8Array;
  /** Reconnect after an unexpected close (never after a kick, logout() or close()). Default true. */
  reconnect?: boolean;
  /** Reconnect delays: jittered exponential between minMs and maxMs. Default 250 ms .. 30 s. */
  backoff?: Partial<BackoffOptions>;
  /** Per-request timeout; default 10 s. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Connect with TLS (protocol.md §2 Transport security); over WebSocket: wss. */
  tls?: boolean | TlsSettings;
  /** WebSocket only: the endpoint's path; default /im (protocol.md §1). */
  path?: string;
  /**
   * protocol.md §2 frame encryption for deployments without TLS: 'rsa' logs in with RSA (2) to
   * `serverPublicKey` and then seals every frame with AES-256-GCM (1). Default 'none'.
   */
  encryption?: 'none' | 'rsa';
  /** The server's RSA public key (PEM, SPKI DER or KeyObject), as published by its operator. */
  serverPublicKey?: PublicKeyInput;
  /**
   * This user's end-to-end key (protocol.md §2 End-to-end RSA): its public half is published at
   * LOGIN (unless `publicKey` is given), `sendEncrypted` seals for it too (so this user's other
   * devices can read), and incoming sealed messages are decrypted before the `message` event.
   */
  e2eKey?: PrivateKeyInput;
  /**
   * The last inbox seq this device already holds (e.g. persisted from a previous run): the client
   * pulls everything after it at connect. Default: the inbox head at the first login, i.e. only
   * messages that arrive from now on are emitted. Use 0 to replay the whole inbox.
   */
  lastSeq?: number;
  /** Page size of sync pulls (MP limit); default 100. */
  syncLimit?: number;
  /**
   * First auto-assigned messageId. Default: Date.now() × 1000, so ids keep increasing across restarts
   * of the same deviceId and a new message is never mistaken for a resend by the server's idempotency
   * key (from, deviceId, messageId) (protocol.md §6 Send).
   */
  firstMessageId?: bigint;
  /** Largest body accepted from the server (protocol.md §1); default 1 MiB. */
  maxBodyLength?: number;
  /** How to open sockets; default the runtime's: node:net / node:tls, or WebSocket in a browser. */
  connector?: Connector;
  /** Crypto, gzip and the default connector: set by the entry (`@im/client` or `@im/client/browser`). */
  runtime?: Runtime;
}

export interface ImClientEvents {
  /**
   * A message for this user that this device did not send itself: pushed (MPS) or pulled during a
   * sync. Inbox messages come in seq order with no duplicates (dedup by messageUid); transient and
   * chatroom messages (seq 0) come as they arrive.
   */
  message: [message: Message];
  /** An MN notify (protocol.md §4); the client pulls on its own. */
  notify: [notify: Notify];
  /** This device logged in elsewhere; the connection closes and is not re-opened. */
  kicked: [error: KickedError];
  /**
   * The server ended the session: its token expired (protocol.md §6 Session). With getToken the
   * client logs in again at once with a fresh token (`reconnect` follows); with a fixed token it
   * stays closed.
   */
  expired: [error: UnauthorizedError];
  /**
   * The edge is shutting down (LOGOUT notify with UNAVAILABLE, protocol.md §6 Shutdown): the client
   * reconnects to the next address after `error.retryAfterMs`, then resyncs by seq.
   */
  draining: [error: UnavailableError];
  /** The connection went away (reason: ConnectionError, KickedError...). Reconnect follows unless kicked/closed. */
  disconnect: [reason: Error];
  /** Logged in again after a disconnect; a resync pull follows. */
  reconnect: [login: LoginResponse];
  /**
   * Something failed in the background (a sync pull, a reconnect LOGIN that was refused), or the
   * server sent a frame the client refused (ConnectionError PROTOCOL: e.g. an unsealed frame on an
   * encrypted connection, protocol.md §2); the connection is then closed and reconnected.
   */
  error: [error: Error];
}

export type ClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface SendInput {
  conversation: Conversation;
  content: BodyInput<MessageContent>;
  /** Default: the target of a single conversation, else empty (protocol.md §6 Send). */
  to?: string;
  /** Default: the next auto-assigned id. Pass the id of a failed send to retry it idempotently. */
  messageId?: bigint;
}

/** A SendAck plus the messageId the message was sent with. */
export interface SendResult extends SendAck {
  messageId: bigint;
}

/** Heartbeat goes out at this share of heartbeatSeconds ("a bit less" than the server's interval). */
const HEARTBEAT_SHARE = 0.8;
const MIN_HEARTBEAT_MS = 1_000;
const DEFAULT_SYNC_LIMIT = 100;
const DEFAULT_CLIENT_VERSION = '@im/client 0.1.0';
/** MS flagged end-to-end (protocol.md §2: encrypt = 3, only on MS). */
const E2E_REQUEST_FLAG = packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.E2E });

export class ImClient extends TypedEmitter<ImClientEvents> {
  private readonly opts: ImClientOptions;
  private readonly runtime: Runtime;
  private readonly backoff: BackoffOptions;
  /** host:port first, then opts.endpoints (no repeats); `at` is the one in use. */
  private readonly addresses: { host: string; port: number }[];
  private at = 0;
  /** Set by a drain hint: the next reconnect waits this long, on the next address. */
  private drainDelayMs: number | undefined;
  private conn: Connection | undefined;
  private stateValue: ClientState = 'idle';
  private inbox: InboxTracker | undefined;
  private session: LoginResponse | undefined;
  private messageIdCounter: bigint;
  /** Set by close()/logout(): nothing reconnects afterwards. */
  private stopped = false;
  private kicked = false;
  /** The current connection was ended by the server because its token expired. */
  private expired = false;
  private attempt = 0;
  private notifySeq = 0;
  private syncing = false;
  private syncAgain = false;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private syncRetryTimer: ReturnType<typeof setTimeout> | undefined;
  /** With an e2eKey, messages are opened before they are emitted; this keeps them in order meanwhile. */
  private emitting: Promise<void> = Promise.resolve();

  constructor(opts: ImClientOptions) {
    super();
    if (opts.token === undefined && opts.getToken === undefined) {
      throw new TypeError('ImClient needs a token or a getToken function');
    }
    if (!opts.runtime) {
      throw new TypeError('no runtime: import ImClient from @im/client (Node) or @im/client/browser');
    }
    this.opts = opts;
    this.runtime = opts.runtime;
    if (opts.encryption === 'rsa' && opts.serverPublicKey === undefined) {
      throw new TypeError("encryption: 'rsa' needs the server's public key (serverPublicKey)");
    }
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    const seen = new Set<string>();
    this.addresses = [{ host: opts.host, port: opts.port }, ...(opts.endpoints ?? [])].filter((a) => {
      const key = `${a.host}:${a.port}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    this.messageIdCounter = opts.firstMessageId ?? BigInt(Date.now()) * 1000n;
  }

  get state(): ClientState {
    return this.stateValue;
  }

  /** The last contiguous inbox seq held (persist it and pass it as `lastSeq` next time). */
  get lastSeq(): number | undefined {
    return this.inbox?.lastSeq ?? this.opts.lastSeq;
  }

  /** The LoginResponse of the current (or last) session. */
  get login(): LoginResponse | undefined {
    return this.session;
  }

  /** The address in use (or tried next while reconnecting). */
  get endpoint(): { host: string; port: number } {
    return this.addresses[this.at] as { host: string; port: number };
  }

  /** The underlying connection while connected (raw frames for tests and tools). */
  get connection(): Connection | undefined {
    return this.conn;
  }

  /**
   * Opens the connection and logs in. Rejects with ConnectionError (REFUSED / UNREACHABLE) or the
   * LOGIN's status error (UnauthorizedError...). The first connect is not retried; reconnects are.
   */
  async connect(): Promise<LoginResponse> {
    if (this.stateValue !== 'idle' && this.stateValue !== 'closed') {
      throw new Error(`connect() called while ${this.stateValue}`);
    }
    this.stopped = false;
    this.kicked = false;
    this.drainDelayMs = undefined;
    this.stateValue = 'connecting';
    try {
      const login = await this.openSession();
      this.stateValue = 'connected';
      this.afterLogin(login);
      return login;
    } catch (err) {
      if (this.stateValue === 'connecting') this.stateValue = 'closed';
      throw err;
    }
  }

  /**
   * MS (protocol.md §6 Send): resolves once the message is stored, with its uid, time and the seq in
   * this user's own inbox. Rejects with a status error (FORBIDDEN, NOT_FOUND...), ConnectionError,
   * RequestTimeoutError, or the UnavailableError / UnauthorizedError of a drain or a session end;
   * every one carries the `messageId` to reuse: after a close, a timeout or such a LOGOUT the message
   * may or may not have been stored, and `send({ ...same, messageId: err.messageId })` after the
   * reconnect is deduplicated by the server. Requests are not queued while disconnected (ConnectionError NOT_CONNECTED).
   */
  async send(input: SendInput, flag?: number): Promise<SendResult> {
    const messageId = input.messageId ?? this.nextMessageId();
    const { conversation } = input;
    const to = input.to ?? (conversation.type === ConversationType.SINGLE ? conversation.target : '');
    const body = codec.Message.encode({ messageId, conversation, messageContent: input.content, to });
    let frame: Frame;
    try {
      frame = await this.request(Command.MS, body, flag);
    } catch (err) {
      throw err instanceof Error ? withMessageId(err, messageId) : err;
    }
    const ack = codec.SendAck.decode(frame.body);
    // Our own message takes a seq in our inbox; it is not pushed back to this device (protocol.md §6
    // Delivery), so mark it held or the next push would look like a gap.
    if (this.inbox) this.deliver(this.inbox.acceptOwn(ack.seq, ack.messageUid));
    return { ...ack, messageId };
  }

  /**
   * An end-to-end message (protocol.md §2 End-to-end RSA, encrypt = 3): `content.data` is sealed
   * for every key in `recipientKeys` and for this client's own e2eKey; searchableContent and
   * pushContent are sent empty, so the server and its database never see the plaintext.
   */
  async sendEncrypted(input: SendInput & { recipientKeys: PublicKeyInput[] }): Promise<SendResult> {
    const own = this.opts.e2eKey === undefined ? [] : [this.opts.e2eKey];
    const keys = [...input.recipientKeys, ...own];
    const data = await sealContentWith(this.runtime, input.content.data ?? new Uint8Array(0), keys, {
      from: this.opts.userId,
      conversation: input.conversation,
    });
    const content = { ...input.content, data, searchableContent: '', pushContent: '' };
    return this.send({ ...input, content }, E2E_REQUEST_FLAG);
  }

  /**
   * The message with its end-to-end `data` opened with this client's e2eKey. Rejects with
   * DecryptError when it was not sealed for this key or was altered; plain messages come back as
   * they are.
   */
  async decrypt(message: Message): Promise<Message> {
    const c = message.messageContent;
    if (!c || !isSealedContent(c.data)) return message;
    if (this.opts.e2eKey === undefined) throw new TypeError('decrypt() needs the e2eKey option');
    const data = await openContentWith(this.runtime, c.data, this.opts.e2eKey, {
      from: message.from,
      conversation: message.conversation ?? { type: 0, target: '' },
    });
    return { ...message, messageContent: { ...c, data } };
  }

  /** A TEXT message to one user. */
  sendText(to: string, text: string): Promise<SendResult> {
    return this.send({ conversation: single(to), content: textContent(text) });
  }

  /** A TYPING indicator: transient, never stored, seq 0 (protocol.md §6 Transient content). */
  typing(conversation: Conversation): Promise<SendResult> {
    return this.send({ conversation, content: { contentType: ContentType.TYPING } });
  }

  /** MP on the inbox: messages with seq > since (default 0), ascending. Does not feed the `message` event. */
  async pull(opts: { since?: number; limit?: number } = {}): Promise<PullResponse> {
    const frame = await this.request(
      Command.MP,
      codec.PullRequest.encode({ since: opts.since ?? 0, limit: opts.limit ?? 0 }),
    );
    return codec.PullResponse.decode(frame.body);
  }

  /** MP with a conversation: its history as this user received it, newest first, paged by beforeUid. */
  async history(
    conversation: Conversation,
    opts: { beforeUid?: bigint; limit?: number } = {},
  ): Promise<PullResponse> {
    const body = codec.PullRequest.encode({
      conversation,
      beforeUid: opts.beforeUid ?? 0n,
      limit: opts.limit ?? 0,
    });
    const frame = await this.request(Command.MP, body);
    return codec.PullResponse.decode(frame.body);
  }

  /** MR (protocol.md §6 Recall): FORBIDDEN if not the sender, EXPIRED past the window, NOT_FOUND. */
  async recall(messageUid: bigint): Promise<void> {
    await this.request(Command.MR, codec.RecallRequest.encode({ messageUid }));
  }

  /** CRJ (protocol.md §6 Chatrooms); NOT_FOUND for an unknown chatroom. */
  async joinChatroom(chatroomId: string): Promise<void> {
    await this.request(Command.CRJ, codec.ChatroomRequest.encode({ chatroomId }));
  }

  async quitChatroom(chatroomId: string): Promise<void> {
    await this.request(Command.CRQ, codec.ChatroomRequest.encode({ chatroomId }));
  }

  /** PING; resolves with the round trip in ms. */
  async ping(): Promise<number> {
    const started = Date.now();
    await this.request(Command.PING);
    return Date.now() - started;
  }

  /** LOGOUT (protocol.md §4): the server removes the route and closes; no reconnect follows. */
  async logout(): Promise<void> {
    const conn = this.conn;
    this.stop();
    if (!conn) {
      this.stateValue = 'closed';
      return;
    }
    const closed = new Promise<void>((resolve) => conn.once('close', () => resolve()));
    conn.send(Command.LOGOUT);
    // The server answers LOGOUT by closing; do not wait forever on one that does not.
    const timer = setTimeout(() => conn.destroy(), this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    await closed;
    clearTimeout(timer);
  }

  /** Closes the connection at once; pending requests reject with ConnectionError CLOSED. Safe to repeat. */
  async close(): Promise<void> {
    const conn = this.conn;
    this.stop();
    if (!conn) {
      this.stateValue = 'closed';
      return;
    }
    const closed = new Promise<void>((resolve) => conn.once('close', () => resolve()));
    conn.destroy(new ConnectionError('CLOSED', 'the client was closed'));
    await closed;
  }

  private stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.syncRetryTimer);
    this.stopHeartbeat();
  }

  private nextMessageId(): bigint {
    this.messageIdCounter += 1n;
    return this.messageIdCounter;
  }

  private request(command: number, body?: Uint8Array, flag?: number): Promise<Frame> {
    const conn = this.conn;
    if (!conn || this.stateValue !== 'connected') {
      return Promise.reject(
        new ConnectionError('NOT_CONNECTED', `not connected to ${this.endpointLabel()} (${this.stateValue})`),
      );
    }
    return conn.request(command, body, flag === undefined ? {} : { flag });
  }

  private endpointLabel(): string {
    return `${this.endpoint.host}:${this.endpoint.port}`;
  }

  /** The next address of the list (the same one when there is only one). */
  private moveOn(): void {
    this.at = (this.at + 1) % this.addresses.length;
  }

  /** Connects and logs in; on success the connection becomes `this.conn`. */
  private async openSession(): Promise<LoginResponse> {
    const conn = await Connection.open(
      {
        host: this.endpoint.host,
        port: this.endpoint.port,
        tls: this.opts.tls,
        connectTimeoutMs: this.opts.connectTimeoutMs,
        path: this.opts.path,
      },
      {
        runtime: this.runtime,
        connector: this.opts.connector,
        requestTimeoutMs: this.opts.requestTimeoutMs,
        maxBodyLength: this.opts.maxBodyLength,
        sealed: this.opts.encryption === 'rsa',
      },
    );
    // Pushes may follow the LOGIN response in the same read; hold them until the session is set up.
    const early: Frame[] = [];
    let ready = false;
    conn.on('notify', (frame) => (ready ? this.onNotify(conn, frame) : early.push(frame)));
    conn.on('close', (reason) => this.onClose(conn, reason));
    try {
      const token = this.opts.token ?? (await (this.opts.getToken as () => Promise<string>)());
      const res = await conn.request(
        Command.LOGIN,
        codec.LoginRequest.encode({
          userId: this.opts.userId,
          token,
          deviceId: this.opts.deviceId,
          platform: this.opts.platform ?? 0,
          clientVersion: this.opts.clientVersion ?? DEFAULT_CLIENT_VERSION,
          publicKey:
            this.opts.publicKey ??
            (this.opts.e2eKey === undefined ? undefined : await this.runtime.publicKeyDer(this.opts.e2eKey)),
          // protocol.md §2 RSA freshness: an RSA LOGIN carries the device's clock (a plain one has no use for it).
          clientTime: this.opts.encryption === 'rsa' ? Date.now() : 0,
        }),
        this.opts.encryption === 'rsa' ? { rsa: this.opts.serverPublicKey } : {},
      );
      const login = codec.LoginResponse.decode(res.body);
      if (this.stopped) throw new ConnectionError('CLOSED', 'the client was closed while logging in');
      this.conn = conn;
      this.session = login;
      this.notifySeq = 0;
      const held = this.inbox?.lastSeq ?? this.opts.lastSeq;
      if (held !== undefined && held > login.head) {
        // The server's inbox is behind what we hold (its data was reset): new messages would reuse
        // seqs we think we have, so start over from its head rather than drop them as duplicates.
        this.emit(
          'error',
          new Error(`inbox head ${login.head} is below the held seq ${held}; resyncing from the head`),
        );
        this.inbox = undefined;
      }
      this.inbox ??= new InboxTracker(held !== undefined && held <= login.head ? held : login.head);
      ready = true;
      for (const frame of early) this.onNotify(conn, frame);
      return login;
    } catch (err) {
      conn.destroy(err instanceof Error ? err : undefined);
      throw err;
    }
  }

  private afterLogin(login: LoginResponse): void {
    this.startHeartbeat(login.heartbeatSeconds);
    const inbox = this.inbox as InboxTracker;
    // protocol.md §6: a client that reconnects pulls with MP.
    if (login.head > inbox.lastSeq || inbox.hasGap) this.requestSync();
  }

  private startHeartbeat(heartbeatSeconds: number): void {
    this.stopHeartbeat();
    if (heartbeatSeconds <= 0) return;
    const everyMs = Math.max(MIN_HEARTBEAT_MS, Math.floor(heartbeatSeconds * 1000 * HEARTBEAT_SHARE));
    this.heartbeatTimer = setInterval(() => {
      const conn = this.conn;
      if (!conn) return;
      conn.request(Command.PING).catch((err: unknown) => {
        // A dead peer that never closed the socket: drop it so the reconnect starts.
        if (err instanceof RequestTimeoutError) {
          conn.destroy(
            new ConnectionError('CLOSED', `no PING answer from ${conn.label} in ${err.timeoutMs} ms`),
          );
        }
      });
    }, everyMs);
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private onNotify(conn: Connection, frame: Frame): void {
    if (conn !== this.conn) return;
    // protocol.md §1: server frames carry a per-connection counter from 1, so a jump is a lost notify.
    const lost = frame.seq > this.notifySeq + 1;
    this.notifySeq = frame.seq;
    try {
      switch (frame.command) {
        case Command.MPS:
          this.onPush(codec.Message.decode(frame.body), lost);
          break;
        case Command.MN: {
          const notify = codec.Notify.decode(frame.body);
          this.emit('notify', notify);
          if (notify.head > (this.inbox as InboxTracker).lastSeq || lost) this.requestSync();
          break;
        }
        case Command.LOGOUT:
          if (frame.status === Status.KICKED) this.onKicked(conn, frame);
          else if (frame.status === Status.UNAUTHORIZED) this.onExpired(conn, frame);
          else if (frame.status === Status.UNAVAILABLE) this.onDraining(conn, frame);
          break;
        default:
          if (lost) this.requestSync();
      }
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  private onPush(message: Message, lost: boolean): void {
    const inbox = this.inbox as InboxTracker;
    this.deliver(inbox.accept(message));
    // protocol.md §6 Delivery: a client that sees a seq gap pulls with MP.
    if (inbox.hasGap || lost) this.requestSync();
  }

  /** protocol.md §6 Session: a LOGOUT notify with status KICKED, then the server closes. */
  private onKicked(conn: Connection, frame: Frame): void {
    this.kicked = true;
    const err = new KickedError(Status.KICKED, decodeErrorInfo(frame.body), Command.LOGOUT);
    this.emit('kicked', err);
    conn.destroy(err);
  }

  /** protocol.md §6 Session: a LOGOUT notify with status UNAUTHORIZED, then the server closes. */
  private onExpired(conn: Connection, frame: Frame): void {
    const err = new UnauthorizedError(Status.UNAUTHORIZED, decodeErrorInfo(frame.body), Command.LOGOUT);
    // Not a failure: log in again right away with a fresh token (none to be had from a fixed one).
    this.expired = true;
    this.emit('expired', err);
    conn.destroy(err);
  }

  /**
   * protocol.md §6 Shutdown: the edge closes this connection next. Reconnect to another address
   * after the hinted delay (which the edge spreads over its drain window), not after a backoff.
   */
  private onDraining(conn: Connection, frame: Frame): void {
    const err = new UnavailableError(Status.UNAVAILABLE, decodeErrorInfo(frame.body), Command.LOGOUT);
    this.drainDelayMs = err.retryAfterMs;
    this.emit('draining', err);
    conn.destroy(err);
  }

  private onClose(conn: Connection, reason: Error): void {
    if (conn !== this.conn) return; // a connection that never finished LOGIN
    this.conn = undefined;
    this.stopHeartbeat();
    clearTimeout(this.syncRetryTimer);
    const expired = this.expired;
    this.expired = false;
    const retry =
      !this.stopped &&
      !this.kicked &&
      this.opts.reconnect !== false &&
      !(expired && this.opts.getToken === undefined);
    this.stateValue = retry ? 'reconnecting' : 'closed';
    // A frame the client refused (unsealed on an encrypted connection, not this protocol) is
    // reported as well as the disconnect: it may be an attacker on the path (protocol.md §2).
    if (reason instanceof ConnectionError && reason.code === 'PROTOCOL') this.emit('error', reason);
    this.emit('disconnect', reason);
    if (retry && expired) this.attempt = 0;
    if (retry) this.scheduleReconnect(expired ? 0 : undefined);
  }

  /** `delayMs`: reconnect after exactly this (a session that ended with its token: at once). */
  private scheduleReconnect(delayMs?: number): void {
    let delay: number;
    if (delayMs !== undefined) {
      delay = delayMs;
    } else if (this.drainDelayMs !== undefined) {
      delay = this.drainDelayMs;
      this.drainDelayMs = undefined;
      this.attempt = 0;
      this.moveOn();
    } else {
      delay = backoffDelay(this.attempt++, this.backoff);
    }
    this.reconnectTimer = setTimeout(() => void this.reconnect(), delay);
  }

  private async reconnect(): Promise<void> {
    if (this.stopped) return;
    try {
      const login = await this.openSession();
      this.attempt = 0;
      this.stateValue = 'connected';
      this.emit('reconnect', login);
      this.afterLogin(login);
    } catch (err) {
      if (this.stopped) return;
      // A fixed token the server refuses will not get better by retrying.
      if (err instanceof UnauthorizedError && !this.opts.getToken) {
        this.stateValue = 'closed';
        this.emit('error', err);
        return;
      }
      if (err instanceof ImStatusError) this.emit('error', err);
      // That address may be gone for good (a drained or dead edge): try the next one.
      this.moveOn();
      this.scheduleReconnect();
    }
  }

  /** Pulls from lastSeq until hasMore is false; a call during a running sync makes it go round again. */
  private requestSync(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    void this.runSync().finally(() => {
      this.syncing = false;
    });
  }

  private async runSync(): Promise<void> {
    let stalls = 0;
    do {
      this.syncAgain = false;
      const conn = this.conn;
      const inbox = this.inbox;
      if (!conn || !inbox) return;
      let page: PullResponse;
      try {
        const frame = await conn.request(
          Command.MP,
          codec.PullRequest.encode({
            since: inbox.lastSeq,
            limit: this.opts.syncLimit ?? DEFAULT_SYNC_LIMIT,
          }),
        );
        page = codec.PullResponse.decode(frame.body);
      } catch (err) {
        this.onSyncError(conn, err as Error);
        return;
      }
      for (const m of page.messages) this.deliver(inbox.accept(m));
      if (page.hasMore && page.messages.length > 0) {
        this.syncAgain = true;
        continue;
      }
      const firstHeld = inbox.firstHeld;
      if (firstHeld !== undefined) {
        if (firstHeld <= page.head || stalls > 0) {
          // The server gave everything up to its head and the gap is still there: it has no such seq.
          this.deliver(inbox.skipGap());
        } else {
          // The push raced ahead of the pull's snapshot: ask once more.
          stalls++;
          this.syncAgain = true;
        }
      }
    } while (this.syncAgain);
  }

  private onSyncError(conn: Connection, err: Error): void {
    // A closed connection resyncs after the reconnect; anything else is retried while connected.
    if (err instanceof ConnectionError || conn !== this.conn) return;
    this.emit('error', err);
    const delay =
      err instanceof TooManyRequestsError && err.retryAfterMs > 0 ? err.retryAfterMs : this.backoff.minMs;
    clearTimeout(this.syncRetryTimer);
    this.syncRetryTimer = setTimeout(() => this.requestSync(), delay);
  }

  /**
   * Emits in the order given. With an e2eKey, sealed messages are emitted opened (one that does
   * not open is emitted as is, after an `error`); opening may take a while (WebCrypto), so every
   * message waits for the ones before it.
   */
  private deliver(messages: Message[]): void {
    if (this.opts.e2eKey === undefined) {
      for (const m of messages) this.emit('message', m);
      return;
    }
    for (const m of messages) {
      this.emitting = this.emitting
        .then(async () => {
          let out = m;
          try {
            out = await this.decrypt(m);
          } catch (err) {
            this.emit('error', err as Error);
          }
          this.emit('message', out);
        })
        // A listener that throws must not stop the messages behind it.
        .catch((err: unknown) => this.emit('error', err instanceof Error ? err : new Error(String(err))));
    }
  }
}
