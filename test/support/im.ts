/**
 * Protocol-level helpers over RawClient for the end-to-end tests: body builders and the
 * steps every test repeats (LOGIN, MS, MP). Each helper asserts nothing about the outcome
 * unless its name says so; tests check statuses themselves.
 */
import {
  Command,
  ContentType,
  ConversationType,
  codec,
  type ErrorInfo,
  type Frame,
  type LoginResponse,
  type Message,
  type MessageContent,
  type PullResponse,
  type SendAck,
  Status,
  statusName,
} from '../../packages/protocol/src/index.js';
import { RawClient } from './raw-client.js';

export interface Identity {
  userId: string;
  deviceId: string;
  token: string;
}

export function loginBody(
  id: Identity,
  extra: { platform?: number; publicKey?: Uint8Array; clientTime?: number } = {},
): Uint8Array {
  return codec.LoginRequest.encode({
    userId: id.userId,
    token: id.token,
    deviceId: id.deviceId,
    platform: extra.platform ?? 4,
    clientVersion: 'e2e-test',
    publicKey: extra.publicKey,
    // protocol.md §2 RSA freshness (ignored on plain logins).
    clientTime: extra.clientTime ?? Date.now(),
  });
}

/** Throws with the server's ErrorInfo reason when the status is not what the test expected. */
export function expectStatus(f: Frame, status: number): Frame {
  if (f.status !== status) {
    const reason = f.status === Status.OK ? '' : `: ${errorOf(f).message}`;
    throw new Error(
      `expected ${statusName(status)}, got ${statusName(f.status)}${reason} (command ${f.command})`,
    );
  }
  return f;
}

export function errorOf(f: Frame): ErrorInfo {
  return codec.ErrorInfo.decode(f.body);
}

/**
 * Where a test connects: an edge's host and port (a bare number is a TCP port on 127.0.0.1), over
 * TCP unless `transport` is 'ws' (the edge's WebSocket port, protocol.md §1).
 */
export interface Endpoint {
  host: string;
  port: number;
  transport?: 'tcp' | 'ws';
}

/** Connects and logs in; returns the client and its LoginResponse. */
export async function connectAs(
  to: number | Endpoint,
  id: Identity,
): Promise<{ c: RawClient; login: LoginResponse }> {
  const c = typeof to === 'number' ? await RawClient.connect(to) : await RawClient.open(to);
  const res = expectStatus(await c.request({ command: Command.LOGIN, body: loginBody(id) }), Status.OK);
  return { c, login: codec.LoginResponse.decode(res.body) };
}

let messageIds = 1n;

export function textMessage(
  to: string,
  text: string,
  opts: { messageId?: bigint; contentType?: number; type?: number; content?: Partial<MessageContent> } = {},
): Message {
  return {
    messageId: opts.messageId ?? messageIds++,
    messageContent: {
      contentType: opts.contentType ?? ContentType.TEXT,
      searchableContent: text,
      pushContent: '',
      data: new TextEncoder().encode(text),
      mentionedType: 0,
      mentionedTargets: [],
      mediaType: 0,
      msgLength: 0,
      remoteMediaUrl: '',
      localMediaPath: '',
      ...opts.content,
    },
    conversation: { type: opts.type ?? ConversationType.SINGLE, target: to },
    from: '',
    to: '',
    messageUid: 0n,
    serverTime: 0,
    seq: 0,
  };
}

/** MS; resolves the response frame (status not checked). */
export function sendMessage(c: RawClient, m: Message, flag?: number): Promise<Frame> {
  return c.request({ command: Command.MS, body: codec.Message.encode(m), flag });
}

/** MS that must succeed; returns the SendAck. */
export async function sendOk(c: RawClient, m: Message): Promise<SendAck> {
  return codec.SendAck.decode(expectStatus(await sendMessage(c, m), Status.OK).body);
}

export async function pullOk(c: RawClient, since: number, limit = 100): Promise<PullResponse> {
  const res = await c.request({ command: Command.MP, body: codec.PullRequest.encode({ since, limit }) });
  return codec.PullResponse.decode(expectStatus(res, Status.OK).body);
}

export function text(m: Message): string {
  return new TextDecoder().decode(m.messageContent?.data ?? new Uint8Array(0));
}

/** The next MPS push on c, decoded. */
export async function nextPush(
  c: RawClient,
  timeoutMs?: number,
): Promise<{ frame: Frame; message: Message }> {
  const frame = await c.next((f) => f.command === Command.MPS, timeoutMs);
  return { frame, message: codec.Message.decode(frame.body) };
}

/** Resolves after ms. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let unique = 0;

/** A user id no other test uses (tests share one server per file). */
export function uniqueUser(prefix: string): string {
  unique += 1;
  return `${prefix}-${process.pid}-${unique}`;
}
