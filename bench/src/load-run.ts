/**
 * One load run at one offered rate: open the users, pace sends open-loop, measure, drain, report.
 *
 * Open loop: a 1 ms pacer computes how many sends are due from the elapsed time and the offered
 * rate, whatever the server answered, so a slow server shows up as latency (and as sends skipped
 * at the per-connection cap), not as a quietly lower offered rate. Sends are pipelined: a
 * connection writes its next MS without waiting for the previous SendAck (protocol.md §6 Send:
 * requests of one connection are handled in order).
 *
 * Latencies:
 *   send→ack   MS frame written → its SendAck (response with the same seq, protocol.md §1) read;
 *   send→push  the wall-clock time the sender wrote into MessageContent.data → the MPS read by
 *              the recipient (or the MP response, for a message announced by MN, protocol.md §6 Delivery).
 * Both ends live in this process, but the timestamp is epoch-based (timeOrigin + now()), so a
 * generator split over processes on one machine would still agree.
 */
import type { Connection } from '@im/client';
import {
  Command,
  ContentType,
  type Conversation,
  ConversationType,
  codec,
  Flow,
  type Frame,
  Status,
  statusName,
} from '@im/protocol';
import type { Endpoint, LoadOptions } from './args.js';
import { type BenchGroup, createGroups, partitionGroups } from './groups-admin.js';
import { LatencyRecorder } from './latency.js';
import { errorCount, formatErrors, type RunResult } from './report.js';
import { openMany, runTag } from './session.js';

const TICK_MS = 1;
const PROGRESS_MS = 1000;
const PULL_LIMIT = 500;
const FLOW_MASK = 0b11;

export interface RunInput {
  opts: LoadOptions;
  targets: Endpoint[];
  secret: string;
  rate: number;
  label: string;
  log: (line: string) => void;
}

interface Peer {
  index: number;
  userId: string;
  conn: Connection;
  /** MS seq → performance.now() when written. */
  outstanding: Map<number, number>;
  nextMessageId: number;
  conversation: Conversation;
  /** For one-to-one the recipient is drawn per send; for groups it is fixed. */
  fanout: number;
  /** Highest inbox seq received by MPS; pulled messages at or below it were pushed already. */
  maxPushSeq: number;
  /** Inbox position the MN-driven pull has reached. */
  pulledUpTo: number;
  pulling: boolean;
  pullAgain: boolean;
  lastWriteAt: number;
  heartbeatMs: number;
  dead: boolean;
}

/** Wall clock with sub-ms precision, comparable across processes on one machine. */
const epochNow = () => performance.timeOrigin + performance.now();

export async function runLoad(input: RunInput): Promise<RunResult> {
  const { opts, targets, secret, rate, log } = input;
  const tag = runTag();
  const n = opts.connections;

  // ---- setup: N users, one connection each, round-robin over the edges
  const setupStart = performance.now();
  let lastShown = 0;
  const users = await openMany({
    targets,
    secret,
    tag,
    from: 0,
    count: n,
    concurrency: opts.connectConcurrency,
    onProgress: (k) => {
      const t = performance.now();
      if (t - lastShown > PROGRESS_MS || k === n) {
        lastShown = t;
        log(`connecting: ${k}/${n} logged in`);
      }
    },
  });
  log(
    `${n} users logged in over ${targets.length} edge(s) in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`,
  );

  let groups: BenchGroup[] = [];
  if (opts.mix.kind === 'group') {
    groups = partitionGroups(
      users.map((u) => u.userId),
      opts.mix.size,
      tag,
    );
    await createGroups(opts.groupsAdmin as string, opts.adminSecret, groups);
    log(`${groups.length} groups of ~${opts.mix.size} created through ${opts.groupsAdmin}`);
  }
  const groupOf = new Map<string, BenchGroup>();
  for (const g of groups) for (const m of g.members) groupOf.set(m, g);

  const now0 = performance.now();
  const peers: Peer[] = users.map((u) => {
    const g = groupOf.get(u.userId);
    return {
      index: u.index,
      userId: u.userId,
      conn: u.conn,
      outstanding: new Map(),
      nextMessageId: 1,
      conversation: g
        ? { type: ConversationType.GROUP, target: g.groupId }
        : { type: ConversationType.SINGLE, target: '' },
      fanout: g ? g.members.length - 1 : 1,
      maxPushSeq: u.login.head,
      pulledUpTo: u.login.head,
      pulling: false,
      pullAgain: false,
      lastWriteAt: now0,
      heartbeatMs: Math.max(1, u.login.heartbeatSeconds) * 1000,
      dead: false,
    };
  });

  // ---- counters
  const ackHist = new LatencyRecorder();
  const pushHist = new LatencyRecorder();
  /** Progress only: reset when the measured window opens. */
  const liveAck = new LatencyRecorder();
  const errors: Record<string, number> = {};
  const bump = (k: string, by = 1) => {
    errors[k] = (errors[k] ?? 0) + by;
  };
  let phase: 'warmup' | 'measure' | 'drain' = 'warmup';
  let windowStart = Number.POSITIVE_INFINITY; // performance.now()
  let windowEnd = Number.POSITIVE_INFINITY;
  let windowStartEpoch = Number.POSITIVE_INFINITY;
  let windowEndEpoch = Number.POSITIVE_INFINITY;
  const inWindow = (t: number) => t >= windowStart && t < windowEnd;
  const total = { sent: 0, acked: 0, delivered: 0, pulled: 0 };
  const win = { sent: 0, acked: 0, delivered: 0 };
  /** Acks and deliveries of messages SENT inside the window (also those that arrive during the drain). */
  const measured = { acked: 0, expectedDeliveries: 0, delivered: 0 };
  let skippedAtCap = 0;
  let maxPacerLagMs = 0;

  // ---- receive path
  const onDelivered = (data: Uint8Array | undefined, viaPull: boolean) => {
    const t = performance.now();
    total.delivered++;
    if (viaPull) total.pulled++;
    if (inWindow(t)) win.delivered++;
    if (!data || data.length < 8) return;
    const sentAt = new DataView(data.buffer, data.byteOffset, 8).getFloat64(0);
    if (sentAt >= windowStartEpoch && sentAt < windowEndEpoch) {
      measured.delivered++;
      pushHist.recordMs(epochNow() - sentAt);
    }
  };

  const pull = async (p: Peer) => {
    if (p.pulling) {
      p.pullAgain = true;
      return;
    }
    p.pulling = true;
    try {
      let more = true;
      while ((more || p.pullAgain) && !p.dead) {
        p.pullAgain = false;
        const res = await p.conn.request(
          Command.MP,
          codec.PullRequest.encode({ since: p.pulledUpTo, limit: PULL_LIMIT }),
        );
        const body = codec.PullResponse.decode(res.body);
        for (const m of body.messages) {
          if (m.seq > p.pulledUpTo) p.pulledUpTo = m.seq;
          // The inbox holds the user's own sends too (protocol.md §6 Inbox); and a pushed one is counted already.
          if (m.from === p.userId || m.seq <= p.maxPushSeq) continue;
          onDelivered(m.messageContent?.data, true);
        }
        more = body.hasMore;
      }
    } catch (err) {
      if (!p.dead) bump(`pull: ${(err as Error).message.slice(0, 60)}`);
    } finally {
      p.pulling = false;
    }
  };

  const onFrame = (p: Peer, f: Frame) => {
    const flow = f.flag & FLOW_MASK;
    if (flow === Flow.RESPONSE) {
      if (f.command !== Command.MS) return; // LOGIN/MP answers go to Connection.request; PING is ignored
      const sentAt = p.outstanding.get(f.seq);
      if (sentAt === undefined) return;
      p.outstanding.delete(f.seq);
      const t = performance.now();
      const measuredSend = inWindow(sentAt);
      if (f.status === Status.OK) {
        total.acked++;
        if (inWindow(t)) win.acked++;
        if (phase !== 'drain' || measuredSend) liveAck.recordMs(t - sentAt);
        if (measuredSend) {
          measured.acked++;
          measured.expectedDeliveries += p.fanout;
          ackHist.recordMs(t - sentAt);
        }
      } else {
        bump(statusName(f.status));
      }
      return;
    }
    if (flow !== Flow.NOTIFY) return;
    if (f.command === Command.MPS) {
      const m = codec.Message.decode(f.body);
      if (m.seq > p.maxPushSeq) p.maxPushSeq = m.seq;
      onDelivered(m.messageContent?.data, false);
    } else if (f.command === Command.MN) {
      void pull(p);
    } else if (f.command === Command.LOGOUT) {
      bump(`kicked`);
    }
  };

  let closing = false;
  for (const p of peers) {
    p.conn.on('frame', (f) => onFrame(p, f));
    p.conn.on('close', () => {
      if (phase === 'drain' && closing) return;
      p.dead = true;
      bump('closed');
    });
  }

  // ---- send path
  const scratch = new Uint8Array(opts.bodyBytes);
  const scratchView = new DataView(scratch.buffer);
  let rr = 0;
  const live = peers.length;
  const pickRecipient = (i: number) => {
    let r = Math.floor(Math.random() * (live - 1));
    if (r >= i) r++;
    return peers[r] as Peer;
  };

  const sendFrom = (p: Peer) => {
    const t = performance.now();
    scratchView.setFloat64(0, epochNow());
    let conversation = p.conversation;
    let to = '';
    if (conversation.type === ConversationType.SINGLE) {
      to = pickRecipient(p.index).userId;
      conversation = { type: ConversationType.SINGLE, target: to };
    }
    const body = codec.Message.encode({
      messageId: BigInt(p.nextMessageId++),
      messageContent: { contentType: ContentType.TEXT, data: scratch },
      conversation,
      to,
    });
    const seq = p.conn.nextSeq();
    p.outstanding.set(seq, t);
    p.lastWriteAt = t;
    p.conn.writeFrame({ seq, command: Command.MS, flag: 0, status: Status.OK, body });
    total.sent++;
    if (inWindow(t)) win.sent++;
  };

  /** The next connection in turn that may send; undefined when all are at the cap (or closed). */
  const nextSender = (): Peer | undefined => {
    for (let k = 0; k < peers.length; k++) {
      const p = peers[rr] as Peer;
      rr = rr + 1 === peers.length ? 0 : rr + 1;
      if (!p.dead && p.outstanding.size < opts.maxOutstanding) return p;
    }
    return undefined;
  };

  const runStart = performance.now();
  let issued = 0;
  const pacer = setInterval(() => {
    const t = performance.now();
    const due = Math.floor(((t - runStart) / 1000) * rate) - issued;
    if (due <= 0) return;
    // How late the oldest due send is: the generator's own lag (large = the bench is CPU-bound).
    const lag = t - (runStart + ((issued + 1) / rate) * 1000);
    if (lag > maxPacerLagMs) maxPacerLagMs = lag;
    for (let k = 0; k < due; k++) {
      issued++;
      const p = nextSender();
      if (p) sendFrom(p);
      else skippedAtCap++;
    }
  }, TICK_MS);

  // Heartbeat (protocol.md §6): a connection whose turn comes rarely must still show it is alive.
  const heartbeat = setInterval(() => {
    const t = performance.now();
    for (const p of peers) {
      if (!p.dead && t - p.lastWriteAt > p.heartbeatMs / 2) {
        p.conn.send(Command.PING);
        p.lastWriteAt = t;
      }
    }
  }, PROGRESS_MS);

  // ---- phases and progress
  const warmupMs = opts.warmupS * 1000;
  const durationMs = opts.durationS * 1000;
  let prev = { sent: 0, acked: 0, delivered: 0, at: runStart };
  const progress = () => {
    const t = performance.now();
    const dt = (t - prev.at) / 1000;
    const outstanding = peers.reduce((a, p) => a + p.outstanding.size, 0);
    if (!opts.quiet) {
      log(
        `[${((t - runStart) / 1000).toFixed(1).padStart(5)}s ${phase.padEnd(7)}] ` +
          `sent ${per(total.sent - prev.sent, dt)}/s  acked ${per(total.acked - prev.acked, dt)}/s  ` +
          `delivered ${per(total.delivered - prev.delivered, dt)}/s  ` +
          `ack p50 ${liveAck.percentileMs(50).toFixed(2)} p99 ${liveAck.percentileMs(99).toFixed(2)} ms  ` +
          `in flight ${outstanding}  skipped@cap ${skippedAtCap}  errors ${formatErrors(errors)}`,
      );
    }
    prev = { sent: total.sent, acked: total.acked, delivered: total.delivered, at: t };
  };
  const ticker = setInterval(progress, PROGRESS_MS);

  await sleep(warmupMs);
  phase = 'measure';
  windowStart = performance.now();
  windowStartEpoch = performance.timeOrigin + windowStart;
  liveAck.reset();
  const skippedBefore = skippedAtCap;
  const errorsBefore = { ...errors };
  await sleep(durationMs);
  windowEnd = performance.now();
  windowEndEpoch = performance.timeOrigin + windowEnd;
  phase = 'drain';
  clearInterval(pacer);
  const skippedInWindow = skippedAtCap - skippedBefore;

  // ---- drain: late acks and pushes of measured sends, bounded in time
  const drainDeadline = performance.now() + opts.drainS * 1000;
  while (performance.now() < drainDeadline) {
    const outstanding = peers.some((p) => !p.dead && p.outstanding.size > 0);
    if (!outstanding && measured.delivered >= measured.expectedDeliveries) break;
    await sleep(50);
  }
  clearInterval(ticker);
  clearInterval(heartbeat);
  progress();

  const measuredErrors: Record<string, number> = {};
  for (const [k, v] of Object.entries(errors)) {
    const d = v - (errorsBefore[k] ?? 0);
    if (d > 0) measuredErrors[k] = d;
  }
  let unacked = 0;
  for (const p of peers) for (const sentAt of p.outstanding.values()) if (inWindow(sentAt)) unacked++;
  if (unacked > 0) measuredErrors.unacked = unacked;
  const undelivered = measured.expectedDeliveries - measured.delivered;
  if (undelivered > 0) measuredErrors.undelivered = undelivered;
  if (maxPacerLagMs > 50)
    log(`note: the pacer fell up to ${maxPacerLagMs.toFixed(0)} ms behind (the generator was short of CPU)`);

  closing = true;
  for (const p of peers) p.conn.close();

  const seconds = (windowEnd - windowStart) / 1000;
  const result: RunResult = {
    label: input.label,
    rateOffered: rate,
    durationS: round(seconds, 3),
    connections: n,
    mix: opts.mix.kind === 'group' ? `group:${opts.mix.size}` : 'one-to-one',
    bodyBytes: opts.bodyBytes,
    sentPerS: round(win.sent / seconds, 1),
    ackedPerS: round(win.acked / seconds, 1),
    deliveredPerS: round(win.delivered / seconds, 1),
    skippedAtCap: skippedInWindow,
    ack: ackHist.summary(),
    push: pushHist.summary(),
    errors: measuredErrors,
    totals: { ...total },
  };
  if (skippedInWindow > 0) {
    log(
      `note: ${skippedInWindow} due sends skipped: every connection had ${opts.maxOutstanding} unacked sends`,
    );
  }
  log(`run done: ${errorCount(measuredErrors)} errors (${formatErrors(measuredErrors)})`);
  await sleep(200); // let the closes leave before the next run opens its users
  return result;
}

function per(count: number, seconds: number): string {
  return Math.round(count / seconds)
    .toLocaleString('en-US')
    .padStart(7);
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function sleep(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms));
}
