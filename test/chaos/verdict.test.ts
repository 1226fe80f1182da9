/**
 * The chaos run's checks (scripts/chaos/verdict.ts) on hand-made records: a clean run passes, and
 * each kind of broken record is found and named — so the harness cannot pass a run that broke
 * protocol.md §6 Guarantee.
 */
import { describe, expect, it } from 'vitest';
import { type AckedMessage, judge, type RunFacts, type Session } from '../../scripts/chaos/verdict.js';

const BOUND = 1_000;

/** alice → bob, uid 1 and 2 at t = 100 and 200; both online all along and pushed both. */
function cleanRun(): RunFacts {
  const acked: AckedMessage[] = [
    {
      uid: 1n,
      from: 'alice',
      conversation: 's:alice|bob',
      audience: ['alice', 'bob'],
      firstTryAt: 90,
      ackAt: 100,
    },
    {
      uid: 2n,
      from: 'alice',
      conversation: 's:alice|bob',
      audience: ['alice', 'bob'],
      firstTryAt: 190,
      ackAt: 200,
    },
  ];
  const session = (pushes: [bigint, number][]): Session => ({
    start: 0,
    end: null,
    loginHead: 0,
    pushes: new Map(pushes),
    notifies: [],
  });
  return {
    acked,
    devices: [
      { userId: 'alice', sessions: [session([])] },
      {
        userId: 'bob',
        sessions: [
          session([
            [1n, 110],
            [2n, 210],
          ]),
        ],
      },
    ],
    inboxes: ['alice', 'bob'].map((userId) => ({
      userId,
      head: 2,
      entries: [
        { uid: 1n, seq: 1, conversation: 's:alice|bob' },
        { uid: 2n, seq: 2, conversation: 's:alice|bob' },
      ],
    })),
    faults: [],
    endAt: 10_000,
    notifyBoundMs: BOUND,
    givenUp: 0,
    unexpectedErrors: [],
    offlineAtEnd: [],
    drainHints: 0,
  };
}

const bobSession = (f: RunFacts): Session => {
  const s = f.devices.find((d) => d.userId === 'bob')?.sessions[0];
  if (!s) throw new Error('no session of bob');
  return s;
};

const row = (f: RunFacts, label: RegExp) => {
  const v = judge(f);
  const r = v.rows.find((x) => label.test(x.label));
  if (!r) throw new Error(`no row ${label}`);
  return { ...r, ok: v.ok, examples: v.examples };
};

describe('chaos verdict', () => {
  it('a clean run has no violation', () => {
    const v = judge(cleanRun());
    expect(v.ok).toBe(true);
    expect(v.rows.filter((r) => r.violation)).toEqual([]);
    expect(v.rows.find((r) => r.label === 'messages acked')?.value).toBe('2');
    expect(v.rows.find((r) => r.label.startsWith('longest'))?.value).toMatch(/^10 ms/);
  });

  it('an acked message missing from an inbox', () => {
    const f = cleanRun();
    f.inboxes[1] = { userId: 'bob', head: 1, entries: [{ uid: 1n, seq: 1, conversation: 's:alice|bob' }] };
    const r = row(f, /missing/);
    expect([r.value, r.violation, r.ok]).toEqual(['1', true, false]);
    expect(r.examples.join('\n')).toMatch(/uid 2 .* not in bob's inbox/);
  });

  it('a duplicate and a seq gap', () => {
    const f = cleanRun();
    f.inboxes[1] = {
      userId: 'bob',
      head: 3,
      entries: [
        { uid: 1n, seq: 1, conversation: 's:alice|bob' },
        { uid: 2n, seq: 3, conversation: 's:alice|bob' },
        { uid: 2n, seq: 4, conversation: 's:alice|bob' },
      ],
    };
    expect(row(f, /duplicates/).value).toBe('1');
    expect(Number(row(f, /seq gaps/).value)).toBeGreaterThanOrEqual(2);
  });

  it('a conversation out of the order the server accepted it in', () => {
    const f = cleanRun();
    f.inboxes[1] = {
      userId: 'bob',
      head: 2,
      entries: [
        { uid: 2n, seq: 1, conversation: 's:alice|bob' },
        { uid: 1n, seq: 2, conversation: 's:alice|bob' },
      ],
    };
    const r = row(f, /order/);
    expect([r.value, r.violation]).toEqual(['1', true]);
  });

  it('an online device never told (MPS or MN), though it stayed online past the bound', () => {
    const f = cleanRun();
    bobSession(f).pushes.delete(2n);
    const r = row(f, /never told/);
    expect([r.value, r.violation]).toEqual(['1', true]);
    expect(r.examples.join('\n')).toMatch(/bob online .* uid 2 .* never told/);
    expect(row(f, /by the fault/).value).toBe('no fault: 1');
  });

  it('an MN whose head reaches the seq counts as told; one below it does not', () => {
    const f = cleanRun();
    const s = bobSession(f);
    s.pushes.delete(2n);
    s.notifies.push({ head: 1, at: 220 });
    expect(row(f, /never told/).value).toBe('1');
    s.notifies.push({ head: 2, at: 230 });
    expect(row(f, /never told/).value).toBe('0');
  });

  it("the session's own LoginResponse head counts as told (a LOGIN answered just before the ack)", () => {
    const f = cleanRun();
    const bob = f.devices[1] as { sessions: Session[] };
    // Logged in at 150, after uid 2 was stored but before alice got its ack (200): LOGIN head 2.
    bob.sessions = [
      { start: 0, end: 150, loginHead: 0, pushes: new Map([[1n, 110]]), notifies: [] },
      { start: 150, end: null, loginHead: 1, pushes: new Map(), notifies: [] },
    ];
    expect(row(f, /never told/).value).toBe('1');
    (bob.sessions[1] as Session).loginHead = 2;
    expect(row(f, /never told/).value).toBe('0');
  });

  it('told late: past the bound after the recovery of the fault in effect', () => {
    const f = cleanRun();
    const s = bobSession(f);
    s.pushes.set(2n, 200 + 500 + BOUND + 1);
    f.faults = [{ target: 'kafka', kind: 'kill', startAt: 150, healedAt: 700 }];
    const r = row(f, /later than/);
    expect([r.value, r.violation]).toEqual(['1', true]);
    expect(row(f, /longest/).value).toMatch(/after kill kafka/);
    expect(row(f, /by the fault/).value).toBe('kill kafka: 1');
    // Within the bound of the recovery (not of the ack): fine.
    s.pushes.set(2n, 700 + BOUND - 1);
    expect(row(f, /later than/).value).toBe('0');
  });

  it('a device that went offline before it was told is not judged on it (its pull is)', () => {
    const f = cleanRun();
    const bob = f.devices[1] as { sessions: Session[] };
    bob.sessions = [{ start: 0, end: 250, loginHead: 0, pushes: new Map([[1n, 110]]), notifies: [] }];
    expect(row(f, /never told/).value).toBe('0');
    expect(row(f, /checked/).value).toBe('1 (1)');
  });

  it('sends never acked, unexpected answers and clients offline at the end fail the run', () => {
    const f = cleanRun();
    f.givenUp = 2;
    expect(row(f, /never acked/).violation).toBe(true);
    const g = cleanRun();
    g.unexpectedErrors = ['alice → bob: INTERNAL: boom'];
    expect(row(g, /unexpected/).violation).toBe(true);
    const h = cleanRun();
    h.offlineAtEnd = ['bob'];
    h.inboxes = h.inboxes.filter((i) => i.userId !== 'bob');
    expect(row(h, /offline at the end/).violation).toBe(true);
    // No inbox to pull: not also counted as missing.
    expect(row(h, /missing/).value).toBe('0');
  });
});
