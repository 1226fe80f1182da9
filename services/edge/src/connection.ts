/**
 * One client socket (protocol.md §1, §6 Session, Limits and abuse, Heartbeat).
 *
 * Transport: TCP, TLS or WebSocket behind one narrow interface (transport.ts); everything below
 * is the same for all of them (protocol.md §1 WebSocket transport).
 *
 * Reading: the first bytes are sniffed for a foreign protocol, then a FrameDecoder (body limit
 * = config.edge.maxBodyBytes) cuts frames, which go through ONE serial queue: requests of a
 * connection are handled in order (§6 Send: two MS back to back are stored, acked and
 * delivered in that order). Over WebSocket the same decoder reads each message, which must be
 * exactly one frame.
 *
 * Writing: header and body as separate chunks, never concatenated; the socket stays corked for the
 * rest of the turn, so every frame of a turn leaves in one writev (write-flush.ts). Past
 * config.edge.maxOutboundBytes of unsent output the socket is destroyed (a client that stops
 * reading is disconnected; its messages stay pullable).
 *
 * Timers: login deadline (close), idle 2.5 × heartbeatSeconds without a client frame (close,
 * route removed), frame-completion deadline (a started frame must complete in frameDeadlineMs),
 * session end at the token's exp (LOGOUT notify UNAUTHORIZED, close, route removed).
 */
import type { Caller } from '@im/core';
import {
  Command,
  codec,
  decodeHeader,
  encodeHeader,
  Flow,
  type Frame,
  FrameDecoder,
  HEADER_LENGTH,
  ProtocolError,
  packFlag,
  Status,
  sniffForeignProtocol,
} from '@im/protocol';
import type { EdgeContext } from './context.js';
import type { SecureSession } from './crypto/session-crypto.js';
import { dispatch } from './dispatch.js';
import { RateGuard } from './limits/rate-guard.js';
import type { ClientTransport } from './transport.js';
import { flushAtEndOfTurn } from './write-flush.js';

/** Pause reading when this many requests wait in the serial queue (a pipelining client cannot grow memory). */
const MAX_QUEUED_REQUESTS = 64;
/** Seqs told out of order kept per connection (see toldAbove); a gap past it costs one MN. */
const MAX_TOLD_AHEAD = 256;
/** After a graceful end(), a peer that never closes its side is destroyed after this. */
const END_LINGER_MS = 2_000;
/** setTimeout's longest delay (~24.8 days): a token that lives longer is looked at again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The flag of a response (protocol.md §2: flow 1), plain and gzip. */
const RESPONSE_FLAG = packFlag({ flow: Flow.RESPONSE });
const RESPONSE_GZIP_FLAG = packFlag({ flow: Flow.RESPONSE, compression: 1 });
/** The flag of a notify (flow 2) by its encrypt part (an end-to-end MPS keeps encrypt = 3). */
const NOTIFY_FLAGS = [0, 1, 2, 3].map((encrypt) => packFlag({ flow: Flow.NOTIFY, encrypt }));
/** Before the first bytes: the sniffer has seen nothing yet (shared: an idle connection allocates none). */
const NOTHING_SNIFFED = new Uint8Array(0);
/** The header echoed when a WebSocket message has none to echo (protocol.md §3: seq and command 0). */
const NO_HEADER = { seq: 0, command: 0 } as const;

/** A frame the server sends on its own (flow = notify); its seq is assigned when it is written. */
export interface NotifyFrame {
  command: number;
  status: number;
  /** Encrypt part of the flag (3 for a delivered end-to-end message, protocol.md §2). */
  encrypt: number;
  body: Uint8Array;
  /** More body after `body` (an MPS's seq field), written as its own chunk: no concatenation. */
  tail?: Uint8Array;
  /** The inbox seq this frame tells the client of (MPS seq, MN head); head-sync.ts tracks it. */
  seq?: number;
}

export interface Session {
  userId: string;
  deviceId: string;
  epoch: number;
  platform: number;
}

type State = 'pre-login' | 'logging-in' | 'logged-in' | 'closing' | 'closed';

let nextConnectionId = 1;

export class Connection {
  readonly id = nextConnectionId++;
  readonly remote: string;
  private state: State = 'pre-login';
  /** Who is logged in: the Caller handed to the services (one object for the connection's life). */
  private session: Caller | null = null;
  /** LoginRequest.platform of the session (routes). */
  private sessionPlatform = 0;
  /** Failed attempts before login (UNAUTHORIZED answers and failed LOGINs); the third closes. */
  strikes = 0;
  /** Chatrooms joined on this connection; left on close (protocol.md §6 Chatrooms). */
  get chatrooms(): Set<string> {
    // Made on first use: most connections never join a chatroom.
    this.rooms ??= new Set();
    return this.rooms;
  }
  private rooms: Set<string> | null = null;
  /** Kicked by a newer login: the route belongs to the new connection, do not remove it. */
  private kicked = false;
  /** Route already removed (LOGOUT). */
  private routeRemoved = false;
  /** protocol.md §2: set by a successful RSA LOGIN; from then on every frame is sealed both ways. */
  secure: SecureSession | null = null;
  /** Per-connection frames/s and bytes/s buckets (protocol.md §6 Limits and abuse). */
  readonly rate: RateGuard;

  private readonly decoder: FrameDecoder;
  /** A framing error was met: nothing more is decoded (the answer is queued, then the close). */
  private framingLost = false;
  private sniffBuffer: Uint8Array | null = NOTHING_SNIFFED;
  /**
   * Requests (and close steps) behind the one being handled, in arrival order; null when none (an
   * idle connection holds no queue). `waitingAt` holds each request's arrival time (metrics).
   */
  private waiting: (Frame | (() => void))[] | null = null;
  private waitingAt: number[] | null = null;
  /** A request's handler is running: what arrives waits its turn (protocol.md §6 Send: in order). */
  private busy = false;
  private queued = 0;
  private pausedForQueue = false;
  /** protocol.md §1: server-originated frames carry the connection's own counter, from 1. */
  private notifySeq = 0;
  /**
   * Every inbox seq up to this one was told to this client, by the server's own doing: a head
   * (LoginResponse.head, MN) covers all below it; an MPS or a SendAck tells its one seq. What
   * head-sync.ts checks (protocol.md §6 Guarantee). A PullResponse does not count, nor does a
   * later seq: a message the client learns of only through a seq gap was never told (issue 10).
   */
  private toldSeq = 0;
  /** Single seqs told above toldSeq, not yet contiguous with it (null: none, the usual case). */
  private toldAbove: Set<number> | null = null;
  /** Notifies held while the LOGIN response is not yet written (it must come first). */
  private held: NotifyFrame[] | null = null;
  /** When the request being handled arrived (metrics: MS received → SendAck written). */
  private handlingSince = 0;
  /** The socket is corked until the end of this turn (write-flush.ts). */
  private corked = false;

  private loginTimer: NodeJS.Timeout | null;
  private readonly idleTimer: NodeJS.Timeout;
  private frameTimer: NodeJS.Timeout | null = null;
  private sessionTimer: NodeJS.Timeout | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: EdgeContext,
    private readonly socket: ClientTransport,
  ) {
    const { edge } = ctx.config;
    this.remote = socket.remote;
    this.decoder = new FrameDecoder({ maxBodyLength: edge.maxBodyBytes });
    this.rate = new RateGuard(edge);
    this.loginTimer = setTimeout(() => this.onLoginTimeout(), edge.loginTimeoutMs);
    this.idleTimer = setTimeout(() => this.onIdle(), idleMs(edge.heartbeatSeconds));
    // Bound methods, not arrow functions: the build names each arrow of an object literal with a
    // defineProperty, which gave every idle connection two dictionary-mode closures (~530 bytes).
    socket.start({
      data: (socket.framing === 'message' ? this.onMessage : this.onData).bind(this),
      error: this.onSocketError.bind(this),
      close: this.onClose.bind(this),
    });
  }

  /** tcp, tls, ws or wss (logs, tests). */
  get transport(): string {
    return this.socket.kind;
  }

  get loggedIn(): boolean {
    return this.state === 'logged-in' || this.state === 'logging-in';
  }

  /** Logged in and its LOGIN response written: frames to it are not held any more. */
  get ready(): boolean {
    return this.state === 'logged-in';
  }

  get closing(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  get userId(): string {
    return this.session?.userId ?? '';
  }

  get deviceId(): string {
    return this.session?.deviceId ?? '';
  }

  get epoch(): number {
    return this.session?.epoch ?? 0;
  }

  get platform(): number {
    return this.session ? this.sessionPlatform : 0;
  }

  /** Who is asking, for the services (api.ts Caller). Only valid once logged in; no copy per request. */
  caller(): Caller {
    const s = this.session;
    if (!s) throw new Error('caller() before login');
    return s;
  }

  // ---- reading ----

  private onSocketError(err: Error): void {
    this.log('debug', { err: err.message, transport: this.socket.kind }, 'socket error');
  }

  private onData(chunk: Uint8Array): void {
    // After a framing error the stream position is lost: later bytes are read (so the peer's FIN
    // is seen) but ignored.
    if (this.closing || this.framingLost) return;
    let bytes: Uint8Array = chunk;
    if (this.sniffBuffer) {
      // protocol.md §6: an HTTP request or TLS hello on this port is closed and logged with a hint.
      // A real header is 12 bytes, so waiting for them costs a client nothing.
      const seen = concat(this.sniffBuffer, chunk);
      const foreign = sniffForeignProtocol(seen);
      if (foreign) {
        this.log('warn', { foreign }, foreignHint(foreign));
        this.destroy();
        return;
      }
      if (seen.length < HEADER_LENGTH) {
        this.sniffBuffer = seen;
        this.armFrameDeadline(false);
        return;
      }
      this.sniffBuffer = null;
      bytes = seen;
    }

    let frames: Frame[];
    try {
      frames = this.decoder.push(bytes);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      // Valid requests that came before the bad header are answered first (protocol.md §3).
      for (const frame of err.frames) this.enqueue(frame);
      this.onProtocolError(err);
      return;
    }
    if (frames.length > 0) this.idleTimer.refresh();
    this.armFrameDeadline(frames.length > 0);
    for (const frame of frames) this.enqueue(frame);
  }

  /**
   * protocol.md §1 WebSocket transport: each binary message carries exactly one whole frame. The
   * stream decoder reads it as it reads TCP (same header checks, same limit); a message that ends
   * mid-frame or holds more than one frame, or a text message, is BAD_REQUEST and the connection
   * is closed.
   */
  private onMessage(message: Uint8Array, binary: boolean): void {
    if (this.closing || this.framingLost) return;
    if (this.sniffBuffer) {
      this.sniffBuffer = null;
      const foreign = sniffForeignProtocol(message);
      if (foreign) {
        this.log('warn', { foreign }, 'a WebSocket message of another protocol; closing');
        this.destroy();
        return;
      }
    }
    if (!binary) {
      this.refuseFraming(
        NO_HEADER,
        'text WebSocket messages are not accepted: send each frame as one binary message',
      );
      return;
    }
    let frames: Frame[];
    try {
      frames = this.decoder.push(message);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.onProtocolError(err);
      return;
    }
    if (frames.length === 1 && !this.decoder.midFrame) {
      this.idleTimer.refresh();
      this.enqueue(frames[0] as Frame);
      return;
    }
    const head = frames[0] ?? (message.length >= HEADER_LENGTH ? decodeHeader(message) : NO_HEADER);
    const what =
      frames.length > 1 || (frames.length === 1 && this.decoder.midFrame)
        ? 'more than one frame'
        : message.length < HEADER_LENGTH
          ? `${message.length} bytes, less than a frame header`
          : 'an incomplete frame';
    this.refuseFraming(head, `a WebSocket message must carry exactly one frame; this one carried ${what}`);
  }

  /**
   * protocol.md §1, §2, §3 framing errors; the stream position is lost, so nothing more is read.
   * Reserved bits: closed, no response. Version / too large: answered, then closed. Either way the
   * close waits behind the requests already queued (§3: nothing is silently dropped), so frames
   * that came before the bad header, even in the same read, are answered first.
   */
  private onProtocolError(err: ProtocolError): void {
    this.log('info', { code: err.code, seq: err.header.seq, command: err.header.command }, err.message);
    const status = err.responseStatus;
    if (status !== null) {
      this.closeWithError(err.header, status, err.message);
      return;
    }
    this.framingLost = true;
    this.clearFrameDeadline();
    this.afterQueued(() => {
      if (this.closing) return;
      // §2 "closed immediately": no answer and no waiting for the peer, once the earlier answers left.
      this.flushWrites(false);
      if (this.socket.writableLength > 0) this.end();
      else this.destroy();
    });
  }

  /** A message that is not exactly one frame (WebSocket): BAD_REQUEST, then closed (protocol.md §1). */
  private refuseFraming(head: { seq: number; command: number }, message: string): void {
    this.log('info', { seq: head.seq, command: head.command, transport: this.socket.kind }, message);
    this.closeWithError(head, Status.BAD_REQUEST, message);
  }

  /**
   * Answers `head` with status and reason behind the requests already queued (§3: nothing is
   * silently dropped), then closes.
   */
  private closeWithError(head: { seq: number; command: number }, status: number, message: string): void {
    this.framingLost = true;
    this.clearFrameDeadline();
    this.afterQueued(() => {
      if (this.closing) return;
      this.respond(head, status, codec.ErrorInfo.encode({ message, retryAfterMs: 0 }), false);
      this.end();
    });
  }

  /** A started frame must complete within frameDeadlineMs (protocol.md §6 Limits: a trickled body is cut off). */
  private armFrameDeadline(progressed: boolean): void {
    const mid = this.sniffBuffer !== null ? this.sniffBuffer.length > 0 : this.decoder.midFrame;
    if (!mid) {
      this.clearFrameDeadline();
      return;
    }
    if (this.frameTimer && !progressed) return;
    this.clearFrameDeadline();
    this.frameTimer = setTimeout(() => {
      this.log('info', { ms: this.ctx.config.edge.frameDeadlineMs }, 'frame not completed in time; closing');
      this.destroy();
    }, this.ctx.config.edge.frameDeadlineMs);
  }

  private clearFrameDeadline(): void {
    if (this.frameTimer) clearTimeout(this.frameTimer);
    this.frameTimer = null;
  }

  private enqueue(frame: Frame): void {
    this.ctx.metrics.frameIn(frame.command);
    const receivedAt = performance.now();
    // Judged on arrival, answered in order by dispatch (limits/rate-guard.ts).
    this.rate.admit(frame);
    this.queued++;
    if (this.queued >= MAX_QUEUED_REQUESTS && !this.pausedForQueue) {
      this.pausedForQueue = true;
      this.socket.pause();
      // The client is not the one holding a partial frame back now: the deadline restarts on resume.
      this.clearFrameDeadline();
    }
    if (!this.busy && this.waiting === null) {
      void this.handle(frame, receivedAt);
      return;
    }
    this.waiting ??= [];
    this.waitingAt ??= [];
    this.waiting.push(frame);
    this.waitingAt.push(receivedAt);
  }

  /** Runs `step` once every request queued before it was answered (§3: nothing silently dropped). */
  private afterQueued(step: () => void): void {
    if (!this.busy && this.waiting === null) {
      step();
      return;
    }
    this.waiting ??= [];
    this.waitingAt ??= [];
    this.waiting.push(step);
    this.waitingAt.push(0);
  }

  /**
   * One request, then whatever waits behind it. Handled as soon as it arrives when nothing is
   * ahead of it (no promise chain per frame); otherwise in turn, from the previous one's end.
   */
  private async handle(frame: Frame, receivedAt: number): Promise<void> {
    this.busy = true;
    try {
      this.handlingSince = receivedAt;
      if (!this.closing) await dispatch(this.ctx, this, frame);
    } catch (err) {
      // dispatch answers every error itself; reaching here is a bug, not a client mistake.
      this.log('error', { err }, 'dispatch failed');
      this.destroy();
    } finally {
      this.busy = false;
      this.queued--;
      if (this.pausedForQueue && this.queued < MAX_QUEUED_REQUESTS / 2 && !this.closing) {
        this.pausedForQueue = false;
        this.socket.resume();
        this.armFrameDeadline(true);
      }
      this.next();
    }
  }

  /** Starts what waits next: close steps run at once, the first request is handled. */
  private next(): void {
    const waiting = this.waiting;
    const at = this.waitingAt;
    while (waiting !== null && at !== null && !this.busy) {
      const item = waiting.shift();
      const receivedAt = at.shift() ?? 0;
      if (waiting.length === 0) this.waiting = this.waitingAt = null;
      if (item === undefined) return;
      if (typeof item === 'function') item();
      else void this.handle(item, receivedAt);
      if (this.waiting === null) return;
    }
  }

  // ---- session ----

  /**
   * After presence.login: the connection holds the route. Notifies are held until the LOGIN
   * response is written (it must be the first thing the client reads after LOGIN).
   */
  beginSession(s: Session): void {
    this.session = { userId: s.userId, deviceId: s.deviceId, nodeId: this.ctx.nodeId, epoch: s.epoch };
    this.sessionPlatform = s.platform;
    this.state = 'logging-in';
    this.held = [];
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = null;
  }

  /** The LOGIN response is written: release what arrived meanwhile. */
  completeLogin(): void {
    if (this.state !== 'logging-in') return;
    this.state = 'logged-in';
    const held = this.held ?? [];
    this.held = null;
    if (held.length > 0) this.sendNotifies(held);
  }

  /** LOGIN failed after presence.login: back to pre-login, route given back by the caller. */
  abortSession(): void {
    if (this.state === 'logging-in') this.state = 'pre-login';
    this.session = null;
    this.held = null;
  }

  /**
   * protocol.md §6 Session: "a session lasts no longer than the token it logged in with". At
   * `atMs` (the token's exp plus the clock skew) the client gets a LOGOUT notify with status
   * UNAUTHORIZED and the connection closes; the close removes the route.
   */
  endSessionAt(atMs: number): void {
    if (this.sessionTimer) clearTimeout(this.sessionTimer);
    const delay = Math.max(0, atMs - Date.now());
    this.sessionTimer = setTimeout(
      () => (delay > MAX_TIMER_MS ? this.endSessionAt(atMs) : this.expire()),
      Math.min(delay, MAX_TIMER_MS),
    );
  }

  private expire(): void {
    if (this.closing) return;
    this.log('info', {}, 'token expired; session ended');
    this.sendNotifies([
      {
        command: Command.LOGOUT,
        status: Status.UNAUTHORIZED,
        encrypt: 0,
        body: codec.ErrorInfo.encode({
          message: 'token expired: log in again with a fresh token',
          retryAfterMs: 0,
        }),
      },
    ]);
    this.end();
  }

  markRouteRemoved(): void {
    this.routeRemoved = true;
  }

  /** The client was told of inbox seq `seq` alone (an MPS, a SendAck; see toldSeq). */
  told(seq: number): void {
    if (seq <= this.toldSeq) return;
    if (seq === this.toldSeq + 1) {
      this.toldSeq = seq;
      if (this.toldAbove) this.drainToldAbove();
      return;
    }
    this.toldAbove ??= new Set();
    // Bounded: past it the seqs told out of order are forgotten, and head sync sends one MN.
    if (this.toldAbove.size < MAX_TOLD_AHEAD) this.toldAbove.add(seq);
  }

  /** The client was told its inbox head (LoginResponse, MN): every seq up to it. */
  toldHead(head: number): void {
    if (head <= this.toldSeq) return;
    this.toldSeq = head;
    if (this.toldAbove) this.drainToldAbove();
  }

  private drainToldAbove(): void {
    const above = this.toldAbove as Set<number>;
    while (above.delete(this.toldSeq + 1)) this.toldSeq += 1;
    for (const seq of above) if (seq <= this.toldSeq) above.delete(seq);
    if (above.size === 0) this.toldAbove = null;
  }

  get toldUpTo(): number {
    return this.toldSeq;
  }

  // ---- writing ----

  /**
   * A response (flow = 1): the request's seq and command, version 1 (protocol.md §3). Sealed with
   * `secure` (default: the connection's session) — a failed RSA LOGIN is answered with its own key.
   */
  respond(
    req: { seq: number; command: number },
    status: number,
    body: Uint8Array,
    gzip: boolean,
    secure: SecureSession | null = this.secure,
  ): void {
    const plainFlag = gzip ? RESPONSE_GZIP_FLAG : RESPONSE_FLAG;
    if (secure) {
      const out = secure.seal({ seq: req.seq, command: req.command, status, flag: plainFlag }, body);
      this.write(req.seq, req.command, out.flag, status, out.body, null);
    } else {
      this.write(req.seq, req.command, plainFlag, status, body, null);
    }
    this.ctx.metrics.frameOut(req.command, status);
    if (req.command === Command.MS && status === Status.OK) {
      this.ctx.metrics.sendAck((performance.now() - this.handlingSince) / 1000);
    }
  }

  /** Server-originated frames (flow = 2), written in one cork; each takes the next notify seq. */
  sendNotifies(frames: readonly NotifyFrame[]): void {
    for (const f of frames) this.deliver(f);
  }

  /** One server-originated frame (see sendNotifies); the caller has checked closing and held. */
  private notify(f: NotifyFrame): void {
    this.ctx.metrics.frameOut(f.command, f.status);
    if (f.seq) {
      if (f.command === Command.MN) this.toldHead(f.seq);
      else this.told(f.seq);
    }
    const seq = this.nextNotifySeq();
    const plainFlag = NOTIFY_FLAGS[f.encrypt] as number;
    const tail = f.tail && f.tail.length > 0 ? f.tail : null;
    if (this.secure) {
      // protocol.md §2: sealed on an encrypted connection; end-to-end messages keep encrypt = 3.
      const out = this.secure.seal(
        { seq, command: f.command, status: f.status, flag: plainFlag },
        tail ? concat(f.body, tail) : f.body,
      );
      this.write(seq, f.command, out.flag, f.status, out.body, null);
      return;
    }
    this.write(seq, f.command, plainFlag, f.status, f.body, tail);
  }

  /** Queue a notify behind the ones held at login, or write it now (deliveries.ts). */
  deliver(f: NotifyFrame): void {
    if (this.closing) return;
    if (this.held) this.held.push(f);
    else this.notify(f);
  }

  private nextNotifySeq(): number {
    // u32 on the wire; wraps to 1 after 2^32 - 1 notifies.
    this.notifySeq = this.notifySeq >= 0xffffffff ? 1 : this.notifySeq + 1;
    return this.notifySeq;
  }

  /** One frame: its header fields and its body, in one piece or two (an MPS's seq field behind). */
  private write(
    seq: number,
    command: number,
    flag: number,
    status: number,
    body: Uint8Array,
    tail: Uint8Array | null,
  ): void {
    const s = this.socket;
    if (!s.writable) return;
    // Corked until the end of the turn (write-flush.ts): the turn's frames leave in one write.
    if (!this.corked) {
      this.corked = true;
      s.cork();
      flushAtEndOfTurn(this);
    }
    const bodyLength = body.length + (tail ? tail.length : 0);
    s.writeFrame(encodeHeader({ seq, command, flag, status, bodyLength }), body, tail);
    // Past the bound, flush at once: the bound is judged on what the kernel did not take, and
    // never later than when every write was flushed by itself.
    if (s.writableLength > this.ctx.config.edge.maxOutboundBytes) this.flushWrites();
  }

  /** Uncorks this turn's frames (write-flush.ts), then applies the unsent-bytes bound. */
  flushWrites(bounded = true): void {
    if (!this.corked) return;
    this.corked = false;
    const s = this.socket;
    s.uncork();
    // protocol.md §6 Limits: a bound on unsent output; a client that stops reading is dropped.
    if (bounded && s.writableLength > this.ctx.config.edge.maxOutboundBytes) {
      this.log('warn', { unsent: s.writableLength }, 'client is not reading; disconnecting');
      this.destroy();
    }
  }

  // ---- closing ----

  /**
   * protocol.md §6 Session: a newer LOGIN of this (user, device) wins. LOGOUT notify with
   * KICKED, then close; the route now belongs to the new connection, so it is not removed.
   */
  kick(reason = 'logged in elsewhere'): void {
    if (this.closing) return;
    this.kicked = true;
    this.held = null;
    this.sendNotifies([
      {
        command: 2, // LOGOUT
        status: Status.KICKED,
        encrypt: 0,
        body: codec.ErrorInfo.encode({ message: reason, retryAfterMs: 0 }),
      },
    ]);
    this.end();
  }

  /** Graceful close: what is written is flushed, then FIN; nothing more is read. Idempotent. */
  end(): void {
    if (this.closing) return;
    // This turn's frames first, under the bound like any write (a slow reader is destroyed instead).
    this.flushWrites();
    if (this.closing) return;
    this.state = 'closing';
    this.stopTimers();
    this.socket.end();
    this.lingerTimer = setTimeout(() => this.socket.destroy(), END_LINGER_MS);
    this.lingerTimer.unref();
  }

  /** Immediate close (reserved bits, foreign protocol, timeouts, slow reader). Idempotent. */
  destroy(): void {
    if (this.state === 'closed') return;
    // Frames written earlier in this turn reach the kernel first, as when every write was flushed at once.
    this.flushWrites(false);
    this.state = 'closing';
    this.stopTimers();
    this.socket.destroy();
  }

  private stopTimers(): void {
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = null;
    clearTimeout(this.idleTimer);
    if (this.sessionTimer) clearTimeout(this.sessionTimer);
    this.sessionTimer = null;
    this.clearFrameDeadline();
  }

  private onLoginTimeout(): void {
    if (this.loggedIn || this.closing) return;
    this.log('info', { ms: this.ctx.config.edge.loginTimeoutMs }, 'no LOGIN in time; closing');
    this.end();
  }

  private onIdle(): void {
    if (this.closing) return;
    this.log(
      'info',
      { heartbeatSeconds: this.ctx.config.edge.heartbeatSeconds },
      'heartbeat timeout; closing',
    );
    this.end();
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopTimers();
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.ctx.track(this.cleanup());
  }

  /** protocol.md §6: the route is removed (epoch-guarded) and the chatrooms are left. */
  private async cleanup(): Promise<void> {
    const s = this.session;
    if (!s) return;
    this.ctx.registry.remove(this);
    const { presence, message } = this.ctx;
    const caller = this.caller();
    const jobs: Promise<unknown>[] = [];
    if (!this.kicked && !this.routeRemoved) jobs.push(presence.logout(s.userId, s.deviceId, s.epoch));
    for (const room of this.rooms ?? []) {
      this.ctx.rooms.remove(room, this);
      jobs.push(message.quitChatroom(caller, room));
    }
    const results = await Promise.allSettled(jobs);
    for (const r of results) {
      if (r.status === 'rejected') this.log('warn', { err: String(r.reason) }, 'cleanup after close failed');
    }
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', obj: object, msg: string): void {
    this.ctx.logger[level](
      {
        conn: this.id,
        remote: this.remote,
        user: this.session?.userId,
        device: this.session?.deviceId,
        ...obj,
      },
      msg,
    );
  }
}

export function idleMs(heartbeatSeconds: number): number {
  return Math.round(2.5 * heartbeatSeconds * 1000);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function foreignHint(kind: 'http' | 'tls'): string {
  return kind === 'http'
    ? 'HTTP request on the IM protocol port; closing (the admin HTTP API listens on its own port)'
    : 'TLS ClientHello on the plain IM port; closing (connect without TLS, or to the TLS listener)';
}
