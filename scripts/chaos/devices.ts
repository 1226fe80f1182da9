/**
 * The chaos run's devices: one real SDK client (ImClient) per user, knowing every edge (it moves
 * to the next on a failed connect and on a drain hint, as the SDK does), behind a connector that
 * taps the bytes it receives. The tap sees every frame from the first byte, so it records, per
 * logged-in connection, exactly which messages were pushed (MPS) and which heads were announced
 * (MN) — what protocol.md §6 Guarantee promises — independently of what the SDK then makes of it
 * (a seq gap or a reconnect also makes it pull, which is not being told).
 */
import {
  ConnectionError,
  type Connector,
  type Endpoint,
  ImClient,
  nodeConnector,
  RequestTimeoutError,
  TooManyRequestsError,
  UnavailableError,
} from '../../packages/client/src/index.js';
import { signDevToken } from '../../packages/core/src/index.js';
import {
  Command,
  Compression,
  codec,
  Flow,
  type Frame,
  FrameDecoder,
  type Message,
  Status,
  unpackFlag,
} from '../../packages/protocol/src/index.js';
import type { DeviceLog, Inbox, Session } from './verdict.js';

/** The conversation key of verdict.ts: `s:<a>|<b>` (sorted) or `g:<groupId>`. */
export function conversationKey(from: string, conversation: { type: number; target: string }): string {
  if (conversation.type === 0) return `s:${[from, conversation.target].sort().join('|')}`;
  return `g:${conversation.target}`;
}

function tap(log: DeviceLog): Connector {
  return async (endpoint: Endpoint) => {
    const transport = await nodeConnector(endpoint);
    const decoder = new FrameDecoder({ maxBodyLength: 64 * 1024 * 1024 });
    let session: Session | null = null;
    const observe = (f: Frame) => {
      const flag = unpackFlag(f.flag);
      if (flag.compression !== Compression.NONE) return; // the edge gzips responses to gzip requests only
      const now = Date.now();
      if (flag.flow === Flow.RESPONSE && f.command === Command.LOGIN && f.status === Status.OK) {
        const loginHead = codec.LoginResponse.decode(f.body).head;
        session = { start: now, end: null, loginHead, pushes: new Map(), notifies: [] };
        log.sessions.push(session);
      } else if (flag.flow === Flow.NOTIFY && session) {
        if (f.command === Command.MPS) {
          const uid = codec.Message.decode(f.body).messageUid;
          if (!session.pushes.has(uid)) session.pushes.set(uid, now);
        } else if (f.command === Command.MN) {
          session.notifies.push({ head: codec.Notify.decode(f.body).head, at: now });
        }
      }
    };
    const listen = transport.listen.bind(transport);
    transport.listen = (listener) =>
      listen({
        data(chunk) {
          try {
            for (const f of decoder.push(chunk)) observe(f);
          } catch {
            // The SDK's own decoder sees the same bytes and reports the error.
          }
          listener.data(chunk);
        },
        close(err) {
          if (session) session.end = Date.now();
          session = null;
          listener.close(err);
        },
      });
    return transport;
  };
}

/** Errors a fault explains; the send is tried again with the same messageId (§3 UNAVAILABLE, §6 Send). */
export function retriable(err: unknown): boolean {
  return (
    err instanceof ConnectionError ||
    err instanceof RequestTimeoutError ||
    err instanceof UnavailableError ||
    err instanceof TooManyRequestsError
  );
}

export interface Device {
  userId: string;
  client: ImClient;
  log: DeviceLog;
  /** LOGOUT UNAVAILABLE notifies heard (a draining edge's hint, protocol.md §6 Shutdown). */
  drainHints(): number;
  /** A fresh messageId (the idempotency key is (from, deviceId, messageId)). */
  nextMessageId(): bigint;
}

export interface DeviceOptions {
  userId: string;
  endpoints: Endpoint[];
  /** Index of the edge tried first. */
  first: number;
  jwtSecret: string;
  requestTimeoutMs: number;
}

export async function connectDevice(o: DeviceOptions): Promise<Device> {
  const log: DeviceLog = { userId: o.userId, sessions: [] };
  const ordered = o.endpoints.map((_, i) => o.endpoints[(o.first + i) % o.endpoints.length] as Endpoint);
  const [home, ...others] = ordered as [Endpoint, ...Endpoint[]];
  const client = new ImClient({
    host: home.host,
    port: home.port,
    endpoints: others.map((e) => ({ host: e.host, port: e.port })),
    userId: o.userId,
    deviceId: 'd1',
    getToken: () => signDevToken(o.jwtSecret, o.userId, 24 * 3600),
    connector: tap(log),
    backoff: { minMs: 100, maxMs: 1_000 },
    requestTimeoutMs: o.requestTimeoutMs,
  });
  client.on('error', () => {});
  let hints = 0;
  client.on('draining', () => {
    hints++;
  });
  await client.connect();
  let messageId = BigInt(Date.now()) * 1000n;
  return {
    userId: o.userId,
    client,
    log,
    drainHints: () => hints,
    nextMessageId: () => {
      messageId += 1n;
      return messageId;
    },
  };
}

/** The whole inbox of a device's user by MP pages from seq 0, for the final checks. */
export async function pullInbox(d: Device): Promise<Inbox> {
  const entries: Inbox['entries'] = [];
  let since = 0;
  let head = 0;
  for (let page = 0; page < 100_000; page++) {
    const res = await d.client.pull({ since, limit: 500 });
    head = res.head;
    for (const m of res.messages as Message[]) {
      entries.push({
        uid: m.messageUid,
        seq: m.seq,
        conversation: conversationKey(m.from, m.conversation ?? { type: 0, target: '' }),
      });
    }
    const last = res.messages.at(-1);
    if (!res.hasMore || !last) return { userId: d.userId, head, entries };
    since = last.seq;
  }
  throw new Error(`${d.userId}: inbox has more than 100000 pages`);
}
