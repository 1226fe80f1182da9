/**
 * SDK clients of the cluster scenarios: ImClient with a connector that knows every edge, so a
 * client whose edge died reconnects to another one (the SDK itself takes one host and port), and
 * the inbox checks of protocol.md §6 Guarantee done by a full pull.
 */
import {
  type Connector,
  connectNode,
  ImClient,
  type ImClientOptions,
  type SendResult,
} from '../../../packages/client/src/index.js';
import { signDevToken } from '../../../packages/core/src/index.js';
import type { Message } from '../../../packages/protocol/src/index.js';
import type { Endpoint } from '../../support/im.js';

/**
 * A connector that sticks to the endpoint that worked last and moves on to the next one when a
 * connect fails (an edge that was killed refuses connections). `first` picks the starting edge.
 */
export function failoverConnector(endpoints: Endpoint[], first = 0): Connector & { current(): Endpoint } {
  let at = first % endpoints.length;
  const connect: Connector = async () => {
    let last: unknown;
    for (let i = 0; i < endpoints.length; i++) {
      const idx = (at + i) % endpoints.length;
      const ep = endpoints[idx] as Endpoint;
      try {
        const transport = await connectNode({ host: ep.host, port: ep.port, connectTimeoutMs: 2_000 });
        at = idx;
        return transport;
      } catch (err) {
        last = err;
      }
    }
    throw last;
  };
  return Object.assign(connect, { current: () => endpoints[at] as Endpoint });
}

export interface TrackedClient {
  client: ImClient;
  userId: string;
  deviceId: string;
  /** Every `message` event, in order (the SDK dedups by uid; duplicates here are an SDK bug). */
  received: Message[];
  /** Set when the client got a KICKED notify. */
  kicked: boolean;
  reconnects: number;
  /** Sends that failed on the connection and were tried again (sendUntilAcked). */
  retries: number;
}

/** An ImClient on `endpoints` (starting at edge `first`), connected and logged in, with its events recorded. */
export async function trackedClient(
  endpoints: Endpoint[],
  jwtSecret: string,
  userId: string,
  deviceId: string,
  first = 0,
  extra: Partial<ImClientOptions> = {},
): Promise<TrackedClient> {
  const ep = endpoints[first % endpoints.length] as Endpoint;
  const client = new ImClient({
    host: ep.host,
    port: ep.port,
    userId,
    deviceId,
    getToken: () => signDevToken(jwtSecret, userId, 3600),
    connector: failoverConnector(endpoints, first),
    backoff: { minMs: 100, maxMs: 1_000 },
    requestTimeoutMs: 8_000,
    lastSeq: 0,
    ...extra,
  });
  const t: TrackedClient = {
    client,
    userId,
    deviceId,
    received: [],
    kicked: false,
    reconnects: 0,
    retries: 0,
  };
  client.on('message', (m) => t.received.push(m));
  client.on('kicked', () => {
    t.kicked = true;
  });
  client.on('reconnect', () => {
    t.reconnects += 1;
  });
  client.on('error', () => {});
  await client.connect();
  return t;
}

/**
 * Sends until acked: a send that fails on the connection (the edge died, a timeout) is retried with
 * the SAME messageId after the reconnect — the server deduplicates it (protocol.md §6 Send) — so a
 * message is acked exactly once however often it was tried. Gives up after deadlineMs.
 */
export async function sendUntilAcked(
  t: TrackedClient,
  to: string,
  text: string,
  deadlineMs = 30_000,
): Promise<SendResult> {
  const started = Date.now();
  let messageId: bigint | undefined;
  let lastErr: unknown;
  while (Date.now() - started < deadlineMs) {
    try {
      return await t.client.send({
        conversation: { type: 0, target: to },
        content: { contentType: 1, data: new TextEncoder().encode(text), searchableContent: text },
        messageId,
      });
    } catch (err) {
      lastErr = err;
      t.retries += 1;
      const id = (err as { messageId?: bigint }).messageId;
      if (id !== undefined) messageId = id;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`"${text}" from ${t.userId} not acked within ${deadlineMs} ms: ${String(lastErr)}`);
}

/** The whole inbox of the client's user, by MP pages from seq 0 (protocol.md §6 Inbox and seq). */
export async function pullAll(client: ImClient): Promise<{ messages: Message[]; head: number }> {
  const messages: Message[] = [];
  let since = 0;
  let head = 0;
  for (let page = 0; page < 1_000; page++) {
    const res = await client.pull({ since, limit: 500 });
    messages.push(...res.messages);
    head = res.head;
    const last = res.messages[res.messages.length - 1];
    if (!res.hasMore || !last) return { messages, head };
    since = last.seq;
  }
  throw new Error('pullAll: more than 1000 pages');
}

/**
 * protocol.md §6 Guarantee, checked on a full pull of one inbox: seqs are 1..head with no gap and
 * no repeat, every uid appears once, every acked uid that belongs to this inbox is present.
 * Returns the problems found (empty = conforming), so a failure names them all.
 */
export function inboxProblems(
  label: string,
  inbox: { messages: Message[]; head: number },
  mustContain: Iterable<bigint>,
): string[] {
  const problems: string[] = [];
  const seqs = inbox.messages.map((m) => m.seq);
  seqs.forEach((s, i) => {
    if (s !== i + 1) problems.push(`${label}: position ${i} has seq ${s}, expected ${i + 1}`);
  });
  if (inbox.messages.length !== inbox.head) {
    problems.push(`${label}: ${inbox.messages.length} messages pulled but head is ${inbox.head}`);
  }
  const seen = new Map<bigint, number>();
  for (const m of inbox.messages) seen.set(m.messageUid, (seen.get(m.messageUid) ?? 0) + 1);
  for (const [uid, n] of seen) if (n > 1) problems.push(`${label}: uid ${uid} appears ${n} times`);
  const missing = [...mustContain].filter((uid) => !seen.has(uid));
  if (missing.length > 0) {
    problems.push(`${label}: ${missing.length} acked uid(s) missing, e.g. ${missing.slice(0, 5).join(', ')}`);
  }
  return problems.slice(0, 30);
}
