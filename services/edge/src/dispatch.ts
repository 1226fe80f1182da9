/**
 * One client frame → checks → command handler → response (protocol.md §2, §3, §4).
 *
 * Order of checks for each frame (the first that fails answers; docs/protocol.md states it):
 *   1. Decoder errors (connection.ts, before a frame exists): reserved bits → closed at once, no
 *      response; version ≠ 1 → UNSUPPORTED, close; announced body over the limit →
 *      FRAME_TOO_LARGE, close.
 *   1a. Rate limits, judged on arrival (limits/rate-guard.ts): over frames/s or bytes/s →
 *      TOO_MANY_REQUESTS with retryAfterMs; still over abuseCloseMs after the first → also close.
 *      A gzip body is charged again at its inflated size in step 6 (same answer when over).
 *   1b. Encrypted connection (a session secret exists; crypto/session-crypto.ts): seq not above
 *      the last → BAD_REQUEST, close; a frame that does not open with the c2s key, whatever its
 *      encrypt bits (plain, unsealed E2E, tampered header or body) → BAD_REQUEST, close.
 *   2. flow ≠ 0 (request) → BAD_REQUEST, stays open.
 *   3. compression 2/3 → UNSUPPORTED; encrypt AES without a session key, RSA on anything but LOGIN
 *      or on a server without an RSA key → UNSUPPORTED; encrypt = 3 (end-to-end) on anything but
 *      MS → BAD_REQUEST. Stays open.
 *   4. command RESERVED or unknown → UNSUPPORTED; MN / MPS (server-only) → BAD_REQUEST. Stays open.
 *   5. Not logged in and the command is not LOGIN / LOGOUT → UNAUTHORIZED. Each of the first three
 *      failures before login (UNAUTHORIZED answers and failed LOGINs alike) is answered; the
 *      connection closes after the third.
 *   6. encrypt = 2 (RSA LOGIN): open with the server key; failure → BAD_REQUEST, close.
 *      compression = 1: gunzip with the body limit; inflating past it → FRAME_TOO_LARGE, close;
 *      not gzip → BAD_REQUEST; the inflated bytes over the byte rate → TOO_MANY_REQUESTS.
 *      Bodies are then decoded with the caps of @im/core decode-limits.ts.
 *   7. The command's handler. ImError → its status; a backend that cannot be reached →
 *      UNAVAILABLE; anything else → INTERNAL (logged). Every non-zero status carries ErrorInfo.
 * A response to a gzip request is gzip when its body exceeds GZIP_RESPONSE_THRESHOLD bytes.
 */

import { decodeLimits } from '@im/core';
import {
  Command,
  Compression,
  codec,
  type DecodeLimits,
  Encrypt,
  FLAG_COMPRESSION_SHIFT,
  FLAG_ENCRYPT_SHIFT,
  FLAG_FLOW_SHIFT,
  FLAG_PART_MASK,
  Flow,
  type Frame,
  GZIP_RESPONSE_THRESHOLD,
  gunzipBody,
  gzipBody,
  ImError,
  isKnownCommand,
  Status,
} from '@im/protocol';
import { chatroomJoin, chatroomQuit } from './commands/chatroom.js';
import { login } from './commands/login.js';
import { logout } from './commands/logout.js';
import { ping } from './commands/ping.js';
import { pull } from './commands/pull.js';
import { recall } from './commands/recall.js';
import { send } from './commands/send.js';
import type { Connection } from './connection.js';
import type { EdgeContext } from './context.js';
import { encryptionRefusal, openRsaLogin, type SecureSession } from './crypto/session-crypto.js';
import { toErrorReply } from './errors.js';

/** What a handler gets: the frame and its body after decompression. */
export interface Request {
  seq: number;
  command: number;
  body: Uint8Array;
  /** encrypt = 3 on an MS frame (protocol.md §2 End-to-end RSA). */
  e2e: boolean;
  /** Caps for decoding the body (protocol.md §6 Limits and abuse). */
  limits: DecodeLimits;
  /** An RSA (2) LOGIN's session: LOGIN adopts it on success (protocol.md §2 RSA). */
  secure?: SecureSession;
}

/** What a handler answers: a body (status OK), or no response at all (LOGOUT). */
export type Reply =
  | {
      body: Uint8Array;
      /** Runs right after the response is written (LOGIN releases held notifies). */
      afterWrite?: () => void;
    }
  | { none: true };

export type Handler = (ctx: EdgeContext, conn: Connection, req: Request) => Promise<Reply>;

const HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [Command.LOGIN, login],
  [Command.LOGOUT, logout],
  [Command.PING, ping],
  [Command.MS, send],
  [Command.MP, pull],
  [Command.MR, recall],
  [Command.CRJ, chatroomJoin],
  [Command.CRQ, chatroomQuit],
]);

/** Allowed before LOGIN (protocol.md §6 Session, §4 LOGOUT "also before LOGIN"). */
const PRE_LOGIN = new Set<number>([Command.LOGIN, Command.LOGOUT]);
/** Server → client only (protocol.md §3: a client sending one → BAD_REQUEST). */
const SERVER_ONLY = new Set<number>([Command.MN, Command.MPS]);
/** protocol.md §6 Session: the connection closes after the third failure before login. */
export const MAX_PRE_LOGIN_STRIKES = 3;

class Refusal {
  constructor(
    readonly status: number,
    readonly message: string,
  ) {}
}

/** One part of the flag byte (protocol.md §2), without unpackFlag's object per call. */
const flagPart = (flag: number, shift: number): number => (flag >>> shift) & FLAG_PART_MASK;

/** Checks 2–5: the first refusal, or null when the frame may reach its handler. */
function refuse(ctx: EdgeContext, conn: Connection, frame: Frame): Refusal | null {
  const flow = flagPart(frame.flag, FLAG_FLOW_SHIFT);
  if (flow !== Flow.REQUEST) {
    return new Refusal(Status.BAD_REQUEST, `client frames must have flow 0 (request), got flow ${flow}`);
  }
  const compression = flagPart(frame.flag, FLAG_COMPRESSION_SHIFT);
  if (compression > Compression.GZIP) {
    return new Refusal(Status.UNSUPPORTED, `compression ${compression} is reserved (0 none, 1 gzip)`);
  }
  const unusable = encryptionRefusal(ctx.serverKeys, frame);
  if (unusable) return new Refusal(Status.UNSUPPORTED, unusable);
  if (flagPart(frame.flag, FLAG_ENCRYPT_SHIFT) === Encrypt.E2E && frame.command !== Command.MS) {
    return new Refusal(Status.BAD_REQUEST, 'encrypt 3 (end-to-end) is only valid on MS');
  }
  if (frame.command === Command.RESERVED || !isKnownCommand(frame.command)) {
    return new Refusal(Status.UNSUPPORTED, `command ${frame.command} is not supported`);
  }
  if (SERVER_ONLY.has(frame.command)) {
    return new Refusal(Status.BAD_REQUEST, `command ${frame.command} is sent by the server only`);
  }
  if (!conn.loggedIn && !PRE_LOGIN.has(frame.command)) {
    return new Refusal(Status.UNAUTHORIZED, 'LOGIN first');
  }
  return null;
}

/**
 * The response to `frame` (plain functions, not closures per frame: each request would otherwise
 * allocate them). A gzip request gets a gzip response when the body is large enough; an RSA
 * LOGIN's own session (`candidate`) seals its answer even when the LOGIN fails (protocol.md §2 RSA).
 */
function answer(
  conn: Connection,
  frame: Frame,
  gzip: boolean,
  candidate: SecureSession | undefined,
  status: number,
  body: Uint8Array,
): void {
  const zip = gzip && body.length > GZIP_RESPONSE_THRESHOLD;
  conn.respond(frame, status, zip ? gzipBody(body) : body, zip, candidate ?? conn.secure);
}

/** A non-zero status with its ErrorInfo; counts strikes before login; closes when asked to. */
function fail(
  conn: Connection,
  frame: Frame,
  gzip: boolean,
  candidate: SecureSession | undefined,
  status: number,
  message: string,
  retryAfterMs: number,
  close: boolean,
): void {
  const preLogin = !conn.loggedIn;
  answer(conn, frame, gzip, candidate, status, codec.ErrorInfo.encode({ message, retryAfterMs }));
  // A failed LOGIN or an UNAUTHORIZED answer before login is a strike (protocol.md §6 Session).
  if (preLogin && (status === Status.UNAUTHORIZED || frame.command === Command.LOGIN)) {
    conn.strikes++;
    if (conn.strikes >= MAX_PRE_LOGIN_STRIKES) {
      conn.log('info', { strikes: conn.strikes }, 'too many failures before login; closing');
      close = true;
    }
  }
  if (close) conn.end();
}

function failWith(conn: Connection, frame: Frame, gzip: boolean, err: unknown): void {
  const r = toErrorReply(err);
  fail(conn, frame, gzip, undefined, r.status, r.message, r.retryAfterMs, r.close);
}

export async function dispatch(ctx: EdgeContext, conn: Connection, received: Frame): Promise<void> {
  let frame = received;
  const gzip = flagPart(frame.flag, FLAG_COMPRESSION_SHIFT) === Compression.GZIP;
  // 1a: the rate verdict taken on arrival (limits/rate-guard.ts).
  const limited = conn.rate.verdict(received);
  if (limited) {
    failWith(conn, frame, gzip, limited);
    return;
  }
  // 1b: an encrypted connection opens (and authenticates) every frame before anything else.
  if (conn.secure) {
    try {
      frame = conn.secure.open(frame);
    } catch (err) {
      failWith(conn, frame, gzip, err);
      return;
    }
  }

  const refusal = refuse(ctx, conn, frame);
  if (refusal) {
    fail(conn, frame, gzip, undefined, refusal.status, refusal.message, 0, false);
    return;
  }

  const handler = HANDLERS.get(frame.command);
  if (!handler) {
    // isKnownCommand said yes but no handler: a command added to the contract and not here yet.
    fail(
      conn,
      frame,
      gzip,
      undefined,
      Status.UNSUPPORTED,
      `command ${frame.command} is not supported`,
      0,
      false,
    );
    return;
  }

  /** An RSA LOGIN's own session: its answer is AES even when the LOGIN fails (protocol.md §2 RSA). */
  let candidate: SecureSession | undefined;
  let reply: Reply;
  try {
    // protocol.md §2 receive order: decrypt → decompress → parse.
    let sealed = frame.body;
    const encrypt = flagPart(frame.flag, FLAG_ENCRYPT_SHIFT);
    if (encrypt === Encrypt.RSA && ctx.serverKeys) {
      const opened = openRsaLogin(ctx.serverKeys, frame);
      candidate = opened.session;
      sealed = opened.body;
    }
    const body = gzip ? gunzipBody(sealed, ctx.config.edge.maxBodyBytes) : sealed;
    // protocol.md §6 Limits: the byte rate counts the inflated body too (limits/rate-guard.ts).
    const overBytes = gzip ? conn.rate.inflated(received, body.length) : null;
    if (overBytes) throw overBytes;
    reply = await handler(ctx, conn, {
      seq: frame.seq,
      command: frame.command,
      body,
      e2e: encrypt === Encrypt.E2E,
      limits: decodeLimits(ctx.config.edge),
      secure: candidate,
    });
  } catch (err) {
    const r = toErrorReply(err);
    if (r.unexpected) conn.log('error', { err, command: frame.command }, 'request failed');
    else if (!(err instanceof ImError)) conn.log('warn', { err }, 'request failed');
    if (conn.closing) return;
    fail(conn, frame, gzip, candidate, r.status, r.message, r.retryAfterMs, r.close);
    return;
  }
  if ('none' in reply || conn.closing) return;
  answer(conn, frame, gzip, candidate, Status.OK, reply.body);
  reply.afterWrite?.();
}
