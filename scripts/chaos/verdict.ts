/**
 * The checks of a chaos run (issue 10 item 3), over what the run recorded: pure, so each check is
 * unit-tested with hand-made records that break it (test/chaos/verdict.test.ts).
 *
 *   protocol.md §6 Guarantee — every acked message is in every inbox of its audience, once;
 *   inbox seqs are 1..head without a gap; messages of one conversation keep the order in which the
 *   server accepted them (checked where that order is known: m1 acked before m2 was first sent);
 *   a device online at the ack that stays online is TOLD of it — an MPS of that message, or an MN
 *   (or the session's own LoginResponse) whose head reaches its seq — within notifyBoundMs of the
 *   recovery of the fault in effect. Learning it only through a later message's seq gap, a pull,
 *   or a reconnect, does not count. (A LOGIN answered just before the sender got its ack can
 *   already hold the message in its head: the session started "before the ack" and was told.)
 */
import type { FaultKind } from './schedule.js';

export interface AckedMessage {
  uid: bigint;
  from: string;
  /** `s:<a>|<b>` (the two users sorted) or `g:<groupId>`. */
  conversation: string;
  /** Every user whose inbox must hold it, the sender included. */
  audience: string[];
  /** When the sender first tried it (ms); the server accepted it after this. */
  firstTryAt: number;
  /** When the SendAck arrived (ms); the server accepted it before this. */
  ackAt: number;
}

/** One logged-in connection of a device: from its LOGIN response to its close. */
export interface Session {
  start: number;
  end: number | null;
  /** LoginResponse.head: the inbox head the server told this connection as it logged in. */
  loginHead: number;
  /** uid → when its MPS arrived (first one) on this connection. */
  pushes: Map<bigint, number>;
  /** MN frames on this connection, in order. */
  notifies: { head: number; at: number }[];
}

export interface DeviceLog {
  userId: string;
  sessions: Session[];
}

export interface Inbox {
  userId: string;
  head: number;
  /** As pulled from seq 0, in order. */
  entries: { uid: bigint; seq: number; conversation: string }[];
}

export interface FaultRecord {
  target: string;
  kind: FaultKind;
  startAt: number;
  /** When the component answered again (started and ready, or SIGCONT). */
  healedAt: number;
}

export interface RunFacts {
  acked: AckedMessage[];
  devices: DeviceLog[];
  inboxes: Inbox[];
  faults: FaultRecord[];
  /** When the checks' observation window closed (ms). */
  endAt: number;
  notifyBoundMs: number;
  /** Sends never acked before the run ended. */
  givenUp: number;
  /** Answers no fault explains (BAD_REQUEST, FORBIDDEN, INTERNAL...), as text. */
  unexpectedErrors: string[];
  /** Users whose client was not logged in when the run ended. */
  offlineAtEnd: string[];
  /** Drain hints (LOGOUT UNAVAILABLE) the clients heard: the rolling restarts at work. */
  drainHints: number;
}

export interface Row {
  label: string;
  value: string;
  /** True when this row broke the guarantee; the run then fails. */
  violation: boolean;
}

export interface Verdict {
  rows: Row[];
  /** Up to a few examples per broken check, for the log. */
  examples: string[];
  ok: boolean;
}

/** A fault that starts this soon after an ack may still hold up its fan-out. */
export const FANOUT_SLACK_MS = 1_000;
const EXAMPLES_PER_CHECK = 5;

export function judge(f: RunFacts): Verdict {
  const examples: string[] = [];
  const example = (check: string, list: string[]) => {
    for (const e of list.slice(0, EXAMPLES_PER_CHECK)) examples.push(`${check}: ${e}`);
  };
  const seqIn = new Map<string, Map<bigint, number>>();
  for (const i of f.inboxes) seqIn.set(i.userId, new Map(i.entries.map((e) => [e.uid, e.seq])));
  const ackedBy = new Map(f.acked.map((m) => [m.uid, m]));

  // ---- every acked message in every inbox of its audience
  const missing: string[] = [];
  for (const m of f.acked) {
    for (const u of m.audience) {
      const inbox = seqIn.get(u);
      // No inbox: the device was offline at the end (a violation of its own) and could not pull.
      if (inbox && !inbox.has(m.uid)) missing.push(`uid ${m.uid} (${m.conversation}) not in ${u}'s inbox`);
    }
  }

  // ---- once; seqs 1..head; conversation order
  const dups: string[] = [];
  const gaps: string[] = [];
  const order: string[] = [];
  for (const inbox of f.inboxes) {
    const seen = new Map<bigint, number>();
    inbox.entries.forEach((e, i) => {
      seen.set(e.uid, (seen.get(e.uid) ?? 0) + 1);
      if (e.seq !== i + 1) gaps.push(`${inbox.userId}: position ${i + 1} holds seq ${e.seq}`);
    });
    if (inbox.entries.length !== inbox.head) {
      gaps.push(`${inbox.userId}: ${inbox.entries.length} messages pulled, head ${inbox.head}`);
    }
    for (const [uid, n] of seen) if (n > 1) dups.push(`${inbox.userId}: uid ${uid} ${n} times`);
    // m_i before m_j in the inbox while m_j was acked before m_i was first sent: out of order.
    const latestFirstTry = new Map<string, { at: number; uid: bigint }>();
    for (const e of inbox.entries) {
      const m = ackedBy.get(e.uid);
      if (!m) continue;
      const prev = latestFirstTry.get(m.conversation);
      if (prev && prev.at > m.ackAt) {
        order.push(
          `${inbox.userId}: ${m.conversation} uid ${m.uid} (acked) after uid ${prev.uid} (sent later)`,
        );
      }
      if (!prev || m.firstTryAt > prev.at)
        latestFirstTry.set(m.conversation, { at: m.firstTryAt, uid: m.uid });
    }
  }

  // ---- online devices told (MPS or MN) within the bound after recovery
  const recovery = (ackAt: number): { at: number; fault?: FaultRecord } => {
    let best: { at: number; fault?: FaultRecord } = { at: ackAt };
    for (const x of f.faults) {
      if (x.startAt <= ackAt + FANOUT_SLACK_MS && x.healedAt >= ackAt && x.healedAt > best.at) {
        best = { at: x.healedAt, fault: x };
      }
    }
    return best;
  };
  const never: string[] = [];
  const late: string[] = [];
  /** Never told or told late, by the fault in effect at the ack. */
  const missedBy = new Map<string, number>();
  const charge = (fault: FaultRecord | undefined) => {
    const key = fault ? `${fault.kind} ${fault.target}` : 'no fault';
    missedBy.set(key, (missedBy.get(key) ?? 0) + 1);
  };
  let checked = 0;
  let leftEarly = 0;
  let longest: { ms: number; what: string } = { ms: 0, what: '' };
  const devicesOf = new Map(f.devices.map((d) => [d.userId, d]));
  for (const m of f.acked) {
    const r = recovery(m.ackAt);
    const during = r.fault ? ` after ${r.fault.kind} ${r.fault.target}` : '';
    for (const u of m.audience) {
      if (u === m.from) continue; // the sending device has the ack; a user has one device here
      const seq = seqIn.get(u)?.get(m.uid);
      if (seq === undefined) continue; // counted as missing
      const s = devicesOf
        .get(u)
        ?.sessions.find((x) => x.start <= m.ackAt && (x.end === null || x.end > m.ackAt));
      if (!s) continue; // offline at the ack: its next pull is the guarantee (checked above)
      const pushedAt = s.pushes.get(m.uid);
      const mn = s.notifies.find((n) => n.head >= seq);
      const atLogin = s.loginHead >= seq ? s.start : Infinity;
      const told = Math.min(pushedAt ?? Infinity, mn?.at ?? Infinity, atLogin);
      const windowEnd = s.end ?? f.endAt;
      if (told === Infinity) {
        if (windowEnd - r.at >= f.notifyBoundMs) {
          checked++;
          charge(r.fault);
          never.push(
            `${u} online ${Math.round(windowEnd - m.ackAt)} ms from the ack of uid ${m.uid} (${m.conversation}, seq ${seq})${during}, never told`,
          );
        } else {
          leftEarly++;
        }
        continue;
      }
      checked++;
      const delay = Math.max(0, told - r.at);
      if (delay > f.notifyBoundMs) {
        charge(r.fault);
        late.push(`${u} told of uid ${m.uid} ${Math.round(delay)} ms after recovery${during}`);
      }
      if (delay > longest.ms) longest = { ms: delay, what: `${u}, uid ${m.uid}${during}` };
    }
  }

  const kinds = new Map<string, number>();
  for (const x of f.faults) kinds.set(x.kind, (kinds.get(x.kind) ?? 0) + 1);
  const faultText = [...kinds].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  const count = (label: string, list: string[], check: string): Row => {
    example(check, list);
    return { label, value: String(list.length), violation: list.length > 0 };
  };
  example('send not acked', f.givenUp > 0 ? [`${f.givenUp} send(s) never acked`] : []);
  example('unexpected answer', f.unexpectedErrors);
  example('offline at the end', f.offlineAtEnd);
  const rows: Row[] = [
    { label: 'faults injected by kind', value: faultText, violation: false },
    { label: 'messages acked', value: String(f.acked.length), violation: false },
    { label: 'sends never acked', value: String(f.givenUp), violation: f.givenUp > 0 },
    {
      label: 'unexpected error answers',
      value: String(f.unexpectedErrors.length),
      violation: f.unexpectedErrors.length > 0,
    },
    count('acked messages missing from an inbox', missing, 'missing'),
    count('inbox duplicates', dups, 'duplicate'),
    count('seq gaps', gaps, 'seq gap'),
    count('conversation order violations', order, 'order'),
    count('online devices never told of an acked message', never, 'never told'),
    count(`told later than ${f.notifyBoundMs} ms after recovery`, late, 'late'),
    {
      label: 'never told or late, by the fault in effect',
      value:
        [...missedBy]
          .sort((a, b) => b[1] - a[1])
          .map(([k, n]) => `${k}: ${n}`)
          .join(', ') || '-',
      violation: false,
    },
    {
      label: 'longest recovery → notification',
      value: `${Math.round(longest.ms)} ms${longest.what ? ` (${longest.what})` : ''}`,
      violation: false,
    },
    {
      label: 'online notifications checked (device left early)',
      value: `${checked} (${leftEarly})`,
      violation: false,
    },
    { label: 'drain hints heard by clients', value: String(f.drainHints), violation: false },
    {
      label: 'clients offline at the end',
      value: String(f.offlineAtEnd.length),
      violation: f.offlineAtEnd.length > 0,
    },
  ];
  return { rows, examples, ok: rows.every((r) => !r.violation) };
}

/** The table, one check a line, `VIOLATION` beside each broken one. */
export function formatVerdict(v: Verdict): string {
  const width = Math.max(...v.rows.map((r) => r.label.length));
  const lines = v.rows.map(
    (r) => `  ${r.label.padEnd(width)}  ${r.value}${r.violation ? '   <-- VIOLATION' : ''}`,
  );
  return lines.join('\n');
}
