import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Status } from '@im/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppendRequest } from '../src/ports.js';
import type { SqlDriver } from '../src/store/sql/driver.js';
import { MIGRATIONS, migrate } from '../src/store/sql/migrations.js';
import { SqlMessageStore } from '../src/store/sql/store.sql.js';
import { openPgliteStore, pgliteDriver } from '../src/store/store.pglite.js';
import { SnowflakeUid } from '../src/uid.js';
import { messageStoreContract } from './contracts/message-store.contract.js';
import { single, stored, unique } from './support.js';

messageStoreContract('pglite', () => openPgliteStore());

const uids = new SnowflakeUid(7);
const dm = (from: string, to: string, messageId = 0n): AppendRequest => ({
  message: stored({ uid: uids.next(), from, to, conversation: single(to), messageId }),
  inboxUsers: [from, to],
});

/** Counts transactions, to see group commit at work. */
function counting(driver: SqlDriver): SqlDriver & { transactions: number; failNext: boolean } {
  const c = {
    transactions: 0,
    failNext: false,
    query: driver.query.bind(driver),
    transaction: <T>(fn: (tx: SqlDriver) => Promise<T>) => {
      c.transactions++;
      if (c.failNext) {
        c.failNext = false;
        return Promise.reject(new Error('connection terminated'));
      }
      return driver.transaction(fn);
    },
    close: () => driver.close(),
  };
  return c;
}

describe('SqlMessageStore on PGlite', () => {
  it('answers a value PostgreSQL cannot hold (NUL in text) with BAD_REQUEST, not a raw error', async () => {
    const store = await openPgliteStore();
    try {
      const bad = dm(unique('nul'), unique('peer'));
      bad.message.content = { ...bad.message.content, searchableContent: 'a\u0000b' };
      await expect(store.append(bad)).rejects.toMatchObject({ name: 'ImError', status: Status.BAD_REQUEST });
      await expect(store.history(unique('u'), single('x\u0000'), 0n, 10)).rejects.toMatchObject({
        status: Status.BAD_REQUEST,
      });
      // The store still works afterwards.
      const ok = await store.append(dm(unique('a'), unique('b')));
      expect(ok.duplicate).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('migrates once and records it; a second run applies nothing', async () => {
    const driver = pgliteDriver(new PGlite());
    expect(await migrate(driver)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(driver)).toEqual([]);
    const { rows } = await driver.query<{ version: number }>('SELECT version FROM schema_migrations');
    expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
    await driver.close();
  });

  it('keeps messages across a restart with a dataDir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'im-pglite-'));
    try {
      const first = await openPgliteStore({ dataDir: dir });
      const r = await first.append(dm('a', 'b', 5n));
      await first.close();
      const second = await openPgliteStore({ dataDir: dir });
      expect((await second.pull('b', 0, 10)).entries.map((e) => e.message.uid)).toEqual([r.uid]);
      expect((await second.append(dm('a', 'b', 5n))).duplicate).toBe(true);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('group commit', () => {
    let driver: ReturnType<typeof counting>;
    let store: SqlMessageStore;
    beforeAll(async () => {
      driver = counting(pgliteDriver(new PGlite()));
      store = await SqlMessageStore.open(driver);
    });
    afterAll(() => store.close());

    it('commits concurrent appends in a few transactions', async () => {
      const [a, b] = [unique('a'), unique('b')];
      const before = driver.transactions;
      const results = await Promise.all(Array.from({ length: 100 }, () => store.append(dm(a, b))));
      expect(results.map((r) => r.seqs.get(b))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(driver.transactions - before).toBeLessThanOrEqual(3);
    });

    it('resolves a duplicate queued in the same batch to the original', async () => {
      const [a, b] = [unique('a'), unique('b')];
      const first = dm(a, b, 9n);
      const resend = { ...first, message: { ...first.message, uid: uids.next() } };
      const [r1, r2] = await Promise.all([store.append(first), store.append(resend)]);
      expect(r1?.duplicate).toBe(false);
      expect(r2).toMatchObject({ duplicate: true, uid: first.message.uid });
      expect(r2?.seqs.get(a)).toBe(r1?.seqs.get(a));
      expect(await store.head(b)).toBe(1);
    });

    it('fails a bad append alone when it shares a batch with good ones', async () => {
      const [a, b, c] = [unique('a'), unique('b'), unique('c')];
      const good1 = dm(a, b);
      const bad = dm(a, b);
      const good2 = dm(a, c);
      bad.message.uid = good1.message.uid; // uid reuse violates the primary key
      const before = driver.transactions;
      const results = await Promise.allSettled([store.append(good1), store.append(bad), store.append(good2)]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(driver.transactions - before).toBeGreaterThan(1); // the batch failed, then each ran alone
      expect(await store.head(a)).toBe(2);
      expect((await store.pull(a, 0, 10)).entries.map((e) => e.seq)).toEqual([1, 2]);
    });

    it('fails the whole batch at once when the database itself fails', async () => {
      const [a, b] = [unique('a'), unique('b')];
      driver.failNext = true;
      const before = driver.transactions;
      const results = await Promise.allSettled([store.append(dm(a, b)), store.append(dm(a, b))]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(driver.transactions - before).toBe(1);
      expect(await store.head(a)).toBe(0);
      await expect(store.append(dm(a, b))).resolves.toMatchObject({ duplicate: false });
    });
  });
});
