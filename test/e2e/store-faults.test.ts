/**
 * The embedded store's faults (docs/storage.md "Faults"; protocol.md §3 UNAVAILABLE): a data
 * directory that is not writable, a database held by another process, or a corrupt database file
 * stop the server at start with one plain line that says what to do (exit 1, no stack); a disk that
 * fills up while serving answers MS with UNAVAILABLE and the reason, the server keeps running, and
 * once there is space again nothing acked is missing and nothing is stored twice.
 */
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Status } from '../../packages/protocol/src/index.js';
import { type EmbeddedProcess, spawnEmbedded } from '../support/embedded-process.js';
import { connectAs, errorOf, pullOk, sendMessage, sendOk, textMessage } from '../support/im.js';
import type { RawClient } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { mountTmpfs, unmount } from '../support/tmpfs.js';

const dirs: string[] = [];
const mounts: string[] = [];
const procs: EmbeddedProcess[] = [];
const clients: RawClient[] = [];
const servers: TestServer[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.stop();
  for (const p of procs) await p.kill9();
  for (const m of mounts) unmount(m);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'im-faults-'));
  dirs.push(d);
  return d;
}

/** A tmpfs of its own under a temp dir, or the reason there is none. */
async function tmpfs(options: string): Promise<{ dir: string } | { skip: string }> {
  const dir = join(await tempDir(), 'mnt');
  await mkdir(dir);
  const failed = mountTmpfs(dir, options);
  if (failed) return { skip: failed };
  mounts.push(dir);
  return { dir };
}

/** Starts main.ts and expects it to exit 1 with one plain line matching `reason`. */
async function expectRefusedStart(dataDir: string, reason: RegExp): Promise<string> {
  const p = spawnEmbedded({ dataDir });
  procs.push(p);
  const { code } = await p.exit;
  const failure = p.lines.find((l) => l.startsWith('embedded server failed to start:'));
  expect(code, p.lines.join('\n')).toBe(1);
  expect(failure).toMatch(reason);
  expect(
    p.lines.some((l) => /^\s+at /.test(l)),
    'no stack trace',
  ).toBe(false);
  return failure as string;
}

it('refuses to start on a data directory it cannot write, saying so', async (ctx) => {
  let dataDir: string;
  if (process.getuid?.() === 0) {
    // Root passes permission bits: a read-only mount is what stops it.
    const fs = await tmpfs('ro,size=1m');
    if ('skip' in fs) {
      process.stdout.write(`store-faults.test.ts: ${fs.skip}; skipped\n`);
      return ctx.skip();
    }
    dataDir = fs.dir;
  } else {
    dataDir = join(await tempDir(), 'ro');
    await mkdir(dataDir, { mode: 0o555 });
  }
  const line = await expectRefusedStart(dataDir, /cannot write .*: make its directory writable/);
  expect(line).toContain(dataDir);
});

it('refuses to start on a database another server holds; the first keeps serving', async () => {
  const dataDir = await tempDir();
  const first = spawnEmbedded({ dataDir, secret: 'lock-secret-of-at-least-32-bytes!!!' });
  procs.push(first);
  const port = await first.listening;
  await expectRefusedStart(dataDir, /im\.db is in use by another process/);
  const { c } = await connectAs(port, await first.identity('alice'));
  clients.push(c);
  expect((await sendOk(c, textMessage('bob', 'still here'))).seq).toBe(1);
  await first.stop();
});

it('refuses to start on a corrupt database file, saying what to do', async () => {
  const dataDir = await tempDir();
  await writeFile(join(dataDir, 'im.db'), Buffer.alloc(64 * 1024, 'not a database '));
  await expectRefusedStart(dataDir, /im\.db is corrupt or not a database; restore it from a backup/);
});

it('answers UNAVAILABLE while the disk is full, keeps running, and loses nothing acked', async (ctx) => {
  const fs = await tmpfs('size=2m');
  if ('skip' in fs) {
    process.stdout.write(`store-faults.test.ts: ${fs.skip}; skipped\n`);
    return ctx.skip();
  }
  const secret = 'disk-full-secret-of-at-least-32-bytes';
  const server = await startTestServer({}, { dataDir: fs.dir, secret });
  servers.push(server);
  const { c } = await connectAs(server.port, await server.identity('alice'));
  clients.push(c);
  const acked: bigint[] = [];
  for (let i = 1; i <= 3; i++) acked.push((await sendOk(c, textMessage('bob', `before-${i}`))).messageUid);

  // Fill the disk (the filler is the one file written until ENOSPC).
  const filler = join(fs.dir, 'filler');
  const fh = await open(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) await fh.write(chunk);
  } catch (err) {
    expect((err as { code?: string }).code).toBe('ENOSPC');
  } finally {
    await fh.close();
  }

  // The WAL may still have room from before: send until the store says the disk is full.
  let refused: { messageId: bigint; reason: string } | null = null;
  for (let i = 1; i <= 200 && !refused; i++) {
    const m = textMessage('bob', `during-${i}`, { messageId: 1_000_000n + BigInt(i) });
    const f = await sendMessage(c, m);
    if (f.status === Status.OK) continue;
    expect(f.status).toBe(Status.UNAVAILABLE);
    refused = { messageId: m.messageId, reason: errorOf(f).message };
  }
  expect(refused?.reason).toMatch(/disk is full/);
  // Still running: reads work, and another write is refused the same way.
  expect((await pullOk(c, 0)).messages.length).toBeGreaterThanOrEqual(3);
  const again = await sendMessage(c, textMessage('bob', 'still full'));
  expect(again.status).toBe(Status.UNAVAILABLE);

  // Space again: the same request (same messageId) now succeeds, once.
  await rm(filler);
  const retried = await sendOk(c, textMessage('bob', 'retry', { messageId: refused?.messageId as bigint }));
  acked.push(retried.messageUid);
  acked.push((await sendOk(c, textMessage('bob', 'after'))).messageUid);
  c.close();
  await server.stop();
  servers.splice(servers.indexOf(server), 1);

  const restarted = await startTestServer({}, { dataDir: fs.dir, secret });
  servers.push(restarted);
  const b = await connectAs(restarted.port, await restarted.identity('bob'));
  clients.push(b.c);
  const inbox = (await pullOk(b.c, 0, 500)).messages;
  expect(inbox.map((m) => m.seq)).toEqual(inbox.map((_, i) => i + 1));
  const uids = inbox.map((m) => m.messageUid);
  expect(new Set(uids).size).toBe(uids.length);
  for (const uid of acked) expect(uids).toContain(uid);
  expect(inbox.filter((m) => m.messageId === refused?.messageId)).toHaveLength(1);
});
