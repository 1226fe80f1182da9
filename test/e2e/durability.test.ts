/**
 * protocol.md §6 Send, Guarantee: a SendAck means the message is stored durably. For the embedded
 * server (SQLite, WAL, synchronous=FULL; docs/storage.md "Durability"), two tests of a real server
 * process:
 *   - under strace: every ack written to the client's socket comes after an fsync of the WAL that
 *     completed after the WAL writes of its commit (one fsync per commit, shared by a batch);
 *   - kill -9 in the middle of a burst of pipelined sends: after a restart every acked message is
 *     there, exactly once, at its acked seq, every inbox gap-free; resending the unacked ones with
 *     their messageIds stores each once.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { codec, type Message, type SendAck, Status } from '../../packages/protocol/src/index.js';
import { type EmbeddedProcess, spawnEmbedded } from '../support/embedded-process.js';
import { connectAs, expectStatus, pullOk, sendMessage, sendOk, textMessage } from '../support/im.js';
import type { RawClient } from '../support/raw-client.js';

const dirs: string[] = [];
const procs: EmbeddedProcess[] = [];
const clients: RawClient[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  for (const p of procs) await p.kill9();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'im-durable-'));
  dirs.push(d);
  return d;
}

function start(dataDir: string, secret: string, wrapper?: string[]): EmbeddedProcess {
  const p = spawnEmbedded({ dataDir, secret, ...(wrapper ? { wrapper } : {}) });
  procs.push(p);
  return p;
}

function hasStrace(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const strace = hasStrace();
if (!strace) {
  // scripts/test.sh installs it; a machine without it (or without ptrace) skips this one test.
  process.stdout.write('durability.test.ts: strace not found, the fsync-order test is skipped\n');
}

interface Syscall {
  name: string;
  /** The path (or socket) strace -yy printed for the descriptor. */
  target: string;
}

/**
 * The completed syscalls of an `strace -f -yy` log in completion order: a call strace split around
 * another thread's ("<unfinished ...>" … "<... name resumed>") counts where it completed.
 */
function parseTrace(text: string): Syscall[] {
  const pending = new Map<string, Syscall>();
  const out: Syscall[] = [];
  for (const line of text.split('\n')) {
    const resumed = /^(\d+)\s+<\.\.\. (\w+) resumed>/.exec(line);
    if (resumed) {
      const call = pending.get(resumed[1] as string);
      pending.delete(resumed[1] as string);
      if (call) out.push(call);
      continue;
    }
    // `fdatasync(26</x/im.db-wal> <unfinished ...>`: a one-argument call split by another thread's.
    const m = /^(\d+)\s+(\w+)\(\d+<(.+?)>[,)\s]/.exec(line);
    if (!m) continue;
    const call = { name: m[2] as string, target: m[3] as string };
    if (line.endsWith('<unfinished ...>')) pending.set(m[1] as string, call);
    else out.push(call);
  }
  return out;
}

function lastIndex<T>(list: T[], pred: (x: T) => boolean): number {
  for (let i = list.length - 1; i >= 0; i--) if (pred(list[i] as T)) return i;
  return -1;
}

it('reads a strace log in completion order, calls split around another thread included', () => {
  const wal = '/d/im.db-wal';
  const log = [
    `10  pwrite64(22<${wal}>, "x", 24, 0) = 24`,
    `11  fdatasync(26<${wal}> <unfinished ...>`,
    `10  write(25<TCP:[127.0.0.1:1->127.0.0.1:2]>, "a", 1 <unfinished ...>`,
    '11  <... fdatasync resumed>) = 0',
    '10  <... write resumed>) = 1',
    `10  fsync(22<${wal}>) = 0`,
  ].join('\n');
  expect(parseTrace(log).map((s) => s.name)).toEqual(['pwrite64', 'fdatasync', 'write', 'fsync']);
});

it.skipIf(!strace)(
  'writes every ack after the fsync of the commit that holds it',
  async () => {
    const dataDir = await tempDir();
    const traceFile = join(dataDir, 'strace.log');
    const server = start(dataDir, 'fsync-secret-of-at-least-32-bytes!!', [
      'strace',
      '-f',
      '-qq',
      '-yy',
      '-o',
      traceFile,
      '-e',
      'trace=write,writev,pwrite64,fsync,fdatasync',
    ]);
    const port = await server.listening;
    const { c } = await connectAs(port, await server.identity('alice'));
    clients.push(c);
    // One at a time: each ack is its own commit.
    for (let i = 0; i < 20; i++) await sendOk(c, textMessage('bob', `one-${i}`));
    // A burst: the acks of one batch share its commit.
    const burst = await Promise.all(
      Array.from({ length: 60 }, (_, i) => sendMessage(c, textMessage('bob', `burst-${i}`))),
    );
    for (const f of burst) expectStatus(f, Status.OK);
    c.close();
    await server.stop();

    const wal = join(dataDir, 'im.db-wal');
    const socket = `TCP:[127.0.0.1:${port}->`;
    const calls = parseTrace(await readFile(traceFile, 'utf8')).filter(
      (s) => s.target === wal || s.target.startsWith(socket),
    );
    // The first write to the client is the login response; the rest are the 80 acks (in ≤ 80 writes).
    const writes = calls.flatMap((s, i) => (s.target === wal ? [] : [i])).slice(1);
    expect(writes.length).toBeGreaterThanOrEqual(21);
    let previous = calls.findIndex((s) => s.target.startsWith(socket));
    let fsyncs = 0;
    const isSync = (s: Syscall) => s.name === 'fsync' || s.name === 'fdatasync';
    for (const [n, w] of writes.entries()) {
      const between = calls.slice(previous + 1, w);
      const firstWrite = between.findIndex((s) => s.name === 'pwrite64');
      const lastWrite = lastIndex(between, (s) => s.name === 'pwrite64');
      const lastSync = lastIndex(between, isSync);
      // Acks of one batch may go out in several writes after one commit: the first of them must
      // follow that commit's WAL writes and a sync of the WAL completed after them.
      if (firstWrite >= 0 || lastSync >= 0) {
        expect(firstWrite, 'WAL written since the last ack').toBeGreaterThanOrEqual(0);
        if (n < 20) {
          // One message in flight: nothing else commits between its commit and its ack.
          expect(lastSync, 'the WAL synced after it was written').toBeGreaterThan(lastWrite);
        } else {
          // The burst: the next batch may commit while this one's sync runs (the sync is off the
          // event loop), so the WAL writes of this window's first commit are the ones that count.
          expect(lastSync, 'the WAL synced after the commit').toBeGreaterThan(firstWrite);
        }
        fsyncs += between.filter(isSync).length;
      } else {
        expect(previous, 'an ack with no commit before it follows another ack').toBeGreaterThan(0);
      }
      previous = w;
    }
    // 20 single commits and at least one for the burst; never more commits than messages.
    expect(fsyncs).toBeGreaterThanOrEqual(21);
    expect(fsyncs).toBeLessThanOrEqual(80);
  },
  60_000,
);

it('keeps every acked message exactly once, gap-free, after kill -9 during a burst', async () => {
  const dataDir = await tempDir();
  const secret = 'kill-secret-of-at-least-32-bytes!!!';
  const first = start(dataDir, secret);
  const port = await first.listening;
  const SENDERS = 8;
  const IN_FLIGHT = 16;
  const KILL_AFTER = 600;
  const senders = Array.from({ length: SENDERS }, (_, i) => ({ from: `s${i}`, to: `r${i}` }));
  const acked = new Map<string, SendAck>(); // `${from}/${messageId}` → ack
  const sent = new Map<string, Message[]>(); // from → every message sent, in send order
  let killed = false;

  const bursts = senders.map(async ({ from, to }) => {
    const { c } = await connectAs(port, await first.identity(from));
    clients.push(c);
    const mine: Message[] = [];
    sent.set(from, mine);
    let next = 1n;
    const one = async (): Promise<void> => {
      while (!killed) {
        const m = textMessage(to, `${from}-${next}`, { messageId: next++ });
        mine.push(m);
        let f: Awaited<ReturnType<typeof sendMessage>>;
        try {
          f = await sendMessage(c, m);
        } catch {
          return; // the connection died with the server
        }
        expectStatus(f, Status.OK);
        acked.set(`${from}/${m.messageId}`, codec.SendAck.decode(f.body));
        if (acked.size >= KILL_AFTER && !killed) {
          killed = true;
          await first.kill9();
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, one));
  });
  await Promise.all(bursts);
  expect(first.child.signalCode).toBe('SIGKILL');
  expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER);

  const second = start(dataDir, secret);
  const port2 = await second.listening;
  for (const { from, to } of senders) {
    const mine = sent.get(from) ?? [];
    const ackedHere = mine.flatMap((m) => acked.get(`${from}/${m.messageId}`) ?? []);
    for (const user of [from, to]) {
      const { c } = await connectAs(port2, await second.identity(user, 'check'));
      clients.push(c);
      const entries = [];
      for (let since = 0; ; ) {
        const page = await pullOk(c, since, 500);
        entries.push(...page.messages);
        if (!page.hasMore) break;
        since = page.messages[page.messages.length - 1]?.seq ?? since;
      }
      // Gap-free from 1, each message once.
      expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
      expect(new Set(entries.map((e) => e.messageUid)).size).toBe(entries.length);
      // Every acked message is there; in the sender's inbox at the acked seq.
      const byUid = new Map(entries.map((e) => [e.messageUid, e]));
      for (const ack of ackedHere) {
        const e = byUid.get(ack.messageUid);
        expect(e, `acked ${ack.messageUid} in ${user}'s inbox`).toBeDefined();
        if (user === from) expect(e?.seq).toBe(ack.seq);
      }
      // Nothing there that was not sent (unacked messages may or may not have been committed).
      expect(entries.length).toBeLessThanOrEqual(mine.length);
      c.close();
    }
    // Resending everything with the same messageIds stores nothing twice.
    const { c } = await connectAs(port2, await second.identity(from));
    clients.push(c);
    for (const m of mine) {
      const ack = await sendOk(c, m);
      const before = acked.get(`${from}/${m.messageId}`);
      if (before) expect(ack.messageUid).toBe(before.messageUid);
    }
    const all = await pullOk(c, 0, 500);
    expect(all.messages.length).toBe(mine.length);
    expect(all.messages.map((e) => e.seq)).toEqual(mine.map((_, i) => i + 1));
    c.close();
  }
  await second.stop();
}, 120_000);
