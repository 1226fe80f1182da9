/**
 * A data directory of the PGlite era (<IM_DATA_DIR>/pg) is imported into SQLite once, on the first
 * start (src/import-pglite.ts, docs/storage.md "From PGlite"): messages with their
 * seqs and idempotency keys, groups and chatrooms; then the PGlite folder is renamed so the next
 * start does not import again. The legacy directory is written here by the cluster's own SQL store
 * code (the same schema PGlite held) over PGlite.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import {
  type AppendRequest,
  SnowflakeUid,
  SqlChatroomDirectory,
  type SqlDriver,
  SqlGroupDirectory,
  SqlMessageStore,
  StoreOpenError,
} from '@im/core';
import { ContentType, ConversationType } from '@im/protocol';
import { afterAll, expect, it } from 'vitest';
import { connectAs, pullOk, sendOk, textMessage } from '../../../test/support/im.js';
import type { RawClient } from '../../../test/support/raw-client.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';

const dirs: string[] = [];
const clients: RawClient[] = [];
const servers: TestServer[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'im-import-'));
  dirs.push(d);
  return d;
}

/** SqlDriver over PGlite, as the embedded server had it before SQLite. */
function pgliteDriver(db: PGlite): SqlDriver {
  const inTx = (tx: Pick<Transaction, 'query'>): SqlDriver => {
    const self: SqlDriver = {
      query: (text, params) => tx.query(text, params),
      transaction: (fn) => fn(self),
      close: async () => {},
    };
    return self;
  };
  return {
    query: (text, params) => db.query(text, params),
    transaction: (fn) => db.transaction((tx) => fn(inTx(tx))),
    close: () => db.close(),
  };
}

const uids = new SnowflakeUid(77);

function dm(from: string, to: string, text: string, messageId: bigint): AppendRequest {
  return {
    message: {
      uid: uids.next(),
      messageId,
      from,
      fromDevice: 'd1',
      to,
      conversation: { type: ConversationType.SINGLE, target: to },
      serverTime: Date.now(),
      e2e: false,
      content: {
        contentType: ContentType.TEXT,
        searchableContent: text,
        pushContent: '',
        data: new TextEncoder().encode(text),
        mentionedType: 1,
        mentionedTargets: [to, 'x"y'],
        mediaType: 0,
        msgLength: 0,
        remoteMediaUrl: '',
        localMediaPath: '',
      },
    },
    inboxUsers: [from, to],
  };
}

/** A PGlite-era data dir: 12 alice → bob messages (messageIds 1…12), a group, a chatroom. */
async function legacyDataDir(): Promise<{ dataDir: string; uids: bigint[] }> {
  const dataDir = await tempDir();
  const driver = pgliteDriver(new PGlite(join(dataDir, 'pg')));
  const store = await SqlMessageStore.open(driver);
  const written: bigint[] = [];
  for (let i = 1; i <= 12; i++) {
    written.push((await store.append(dm('alice', 'bob', `old-${i}`, BigInt(i)))).uid);
  }
  await new SqlGroupDirectory(driver).createGroup('team', ['alice', 'bob', 'carol']);
  await new SqlChatroomDirectory(driver).createChatroom('lobby', 1_700_000_000_000);
  await store.close();
  return { dataDir, uids: written };
}

async function start(dataDir: string): Promise<TestServer> {
  const s = await startTestServer({}, { dataDir, secret: 'import-secret-of-at-least-32-bytes!' });
  servers.push(s);
  return s;
}

async function stop(s: TestServer): Promise<void> {
  await s.stop();
  servers.splice(servers.indexOf(s), 1);
}

it('imports a PGlite data directory once: inboxes, seqs, idempotency keys, groups, chatrooms', async () => {
  const { dataDir, uids: old } = await legacyDataDir();
  const first = await start(dataDir);
  expect(existsSync(join(dataDir, 'pg'))).toBe(false);
  expect(existsSync(join(dataDir, 'pg.imported'))).toBe(true);

  const bob = await connectAs(first.port, await first.identity('bob'));
  clients.push(bob.c);
  expect(bob.login.head).toBe(12);
  const page = await pullOk(bob.c, 0);
  expect(page.messages.map((m) => [m.seq, m.messageUid])).toEqual(old.map((uid, i) => [i + 1, uid]));
  expect(page.messages[0]?.messageContent?.mentionedTargets).toEqual(['bob', 'x"y']);

  const alice = await connectAs(first.port, await first.identity('alice'));
  clients.push(alice.c);
  // A resend of an imported message is recognised (same uid, same seq); a new one continues the seq.
  const resend = await sendOk(alice.c, textMessage('bob', 'old-3', { messageId: 3n }));
  expect([resend.messageUid, resend.seq]).toEqual([old[2], 3]);
  expect((await sendOk(alice.c, textMessage('bob', 'new', { messageId: 13n }))).seq).toBe(13);

  expect(await first.server.groups.getGroup('team')).toMatchObject({ members: ['alice', 'bob', 'carol'] });
  const room = await fetch(`${first.adminUrl}/v1/chatrooms/lobby`, {
    headers: { authorization: `Bearer ${first.adminSecret}` },
  });
  expect(room.status).toBe(200);
  await stop(first);

  // The second start imports nothing (the PGlite folder was renamed) and has everything.
  const second = await start(dataDir);
  const again = await connectAs(second.port, await second.identity('bob'));
  clients.push(again.c);
  expect(again.login.head).toBe(13);
  await stop(second);
});

it('starts over from the PGlite data when an earlier import was cut short', async () => {
  const { dataDir } = await legacyDataDir();
  // What a crash part-way leaves: a half-written database under its temporary name.
  await writeFile(join(dataDir, 'im.db.import'), 'half');
  const s = await start(dataDir);
  const bob = await connectAs(s.port, await s.identity('bob'));
  clients.push(bob.c);
  expect(bob.login.head).toBe(12);
  expect(existsSync(join(dataDir, 'im.db.import'))).toBe(false);
  await stop(s);
});

it('leaves the PGlite folder alone when a SQLite database exists already', async () => {
  const dataDir = await tempDir();
  await stop(await start(dataDir)); // creates im.db
  const legacy = await legacyDataDir();
  await rename(join(legacy.dataDir, 'pg'), join(dataDir, 'pg'));
  const s = await start(dataDir);
  const bob = await connectAs(s.port, await s.identity('bob'));
  clients.push(bob.c);
  expect(bob.login.head).toBe(0);
  expect(existsSync(join(dataDir, 'pg'))).toBe(true);
  await stop(s);
});

it('refuses to start, naming the folder, when the PGlite data cannot be read', async () => {
  const dataDir = await tempDir();
  await mkdir(join(dataDir, 'pg'));
  await writeFile(join(dataDir, 'pg', 'PG_VERSION'), 'not a cluster');
  const err = await startTestServer({}, { dataDir }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreOpenError);
  expect((err as Error).message).toContain(join(dataDir, 'pg'));
  expect(existsSync(join(dataDir, 'im.db'))).toBe(false);
});
