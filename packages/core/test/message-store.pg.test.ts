import { Status } from '@im/protocol';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeInfra, requireInfra, uniqueSchema } from '../../../test/support/infra.js';
import type { AppendRequest } from '../src/ports.js';
import type { SqlDriver } from '../src/store/sql/driver.js';
import { PgDriver } from '../src/store/sql/driver.pg.js';
import { MIGRATIONS, migrate } from '../src/store/sql/migrations.js';
import { SqlMessageStore } from '../src/store/sql/store.sql.js';
import { openPgStore } from '../src/store/store.pg.js';
import { SnowflakeUid } from '../src/uid.js';
import { messageStoreContract } from './contracts/message-store.contract.js';
import { single, stored, unique } from './support.js';

/** Counts group commits (the one append statement, store.sql.ts APPEND_BATCH), and fails the next on demand. */
function counting(driver: SqlDriver): SqlDriver & { transactions: number; failNext: boolean } {
  const c = {
    transactions: 0,
    failNext: false,
    query: <R>(text: string, params?: unknown[], name?: string) => {
      if (name === 'im_append_batch') {
        c.transactions++;
        if (c.failNext) {
          c.failNext = false;
          return Promise.reject(new Error('connection terminated'));
        }
      }
      return driver.query<R>(text, params, name);
    },
    transaction: <T>(fn: (tx: SqlDriver) => Promise<T>) => driver.transaction(fn),
    close: () => driver.close(),
  };
  return c;
}

describeInfra('PostgreSQL message store (real PostgreSQL)', () => {
  // One schema per test file (search_path), so runs and files never collide; dropped at the end.
  const schema = uniqueSchema('store');
  const schemas = [schema];
  const stores: SqlMessageStore[] = [];
  let admin: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: requireInfra().databaseUrl });
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    if (!admin) return;
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.end();
  });

  messageStoreContract('postgres', () => openPgStore(requireInfra().databaseUrl, { schema }));

  const openStore = async (s: string) => {
    const store = await openPgStore(requireInfra().databaseUrl, { schema: s, max: 4 });
    stores.push(store);
    return store;
  };
  const uids = new SnowflakeUid(1001);
  const dm = (from: string, to: string, messageId = 0n): AppendRequest => ({
    message: stored({ uid: uids.next(), from, to, conversation: single(to), messageId }),
    inboxUsers: [from, to],
  });

  it('creates its tables in the given schema only, and migrates once', async () => {
    const s = uniqueSchema('mig');
    schemas.push(s);
    await openStore(s);
    const { rows } = await admin.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [s],
    );
    expect(rows.map((r) => r.table_name)).toEqual([
      'chatrooms',
      'group_members',
      'groups',
      'inbox',
      'messages',
      'schema_migrations',
      'user_heads',
    ]);
    const driver = new PgDriver({ url: requireInfra().databaseUrl, schema: s });
    try {
      expect(await migrate(driver)).toEqual([]);
      const versions = await driver.query<{ version: number }>('SELECT version FROM schema_migrations');
      expect(versions.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await driver.close();
    }
  });

  it('keeps inboxes gap-free under concurrent appends from two processes', async () => {
    // Two stores = two pools, like two message-service instances: only row locks order them.
    const s = uniqueSchema('race');
    schemas.push(s);
    const [one, two] = [await openStore(s), await openStore(s)];
    const p = unique('race');
    const [a, b, c] = [`${p}-a`, `${p}-b`, `${p}-c`];
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? one : two).append(i % 3 ? dm(a, b) : dm(c, b))),
    );
    const seqsOf = (u: string) =>
      results
        .map((r) => r.seqs.get(u))
        .filter((x): x is number => x !== undefined)
        .sort((x, y) => x - y);
    expect(seqsOf(b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(seqsOf(a)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(seqsOf(c)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // a's inbox and b's inbox list a's messages in the same order.
    const order = async (u: string) =>
      (await one.pull(u, 0, 100)).entries.filter((e) => e.message.from === a).map((e) => e.message.uid);
    expect(await order(b)).toEqual(await order(a));
  });

  it('rolls a failed transaction back and keeps the pool usable', async () => {
    const driver = new PgDriver({ url: requireInfra().databaseUrl, schema, max: 1 });
    try {
      await driver.query('CREATE TABLE IF NOT EXISTS rollback_probe (v int)');
      await expect(
        driver.transaction(async (tx) => {
          await tx.query('INSERT INTO rollback_probe VALUES (1)');
          await tx.query('SELECT 1/0');
        }),
      ).rejects.toThrow(/division by zero/);
      const n = await driver.transaction(async (tx) => {
        await tx.query('INSERT INTO rollback_probe VALUES (2)');
        return tx.query<{ n: string }>('SELECT count(*)::text AS n FROM rollback_probe');
      });
      expect(n.rows[0]?.n).toBe('1');
    } finally {
      await driver.close();
      await driver.close();
    }
  });

  it('answers a value PostgreSQL cannot hold (NUL in text) with BAD_REQUEST, not a raw error', async () => {
    const store = await openStore(schema);
    const bad = dm(unique('nul'), unique('peer'));
    bad.message.content = { ...bad.message.content, searchableContent: 'a\u0000b' };
    await expect(store.append(bad)).rejects.toMatchObject({ name: 'ImError', status: Status.BAD_REQUEST });
    await expect(store.history(unique('u'), single('x\u0000'), 0n, 10)).rejects.toMatchObject({
      status: Status.BAD_REQUEST,
    });
    // The store still works afterwards.
    const ok = await store.append(dm(unique('a'), unique('b')));
    expect(ok.duplicate).toBe(false);
  });

  describe('group commit', () => {
    let driver: ReturnType<typeof counting>;
    let store: SqlMessageStore;
    beforeAll(async () => {
      driver = counting(new PgDriver({ url: requireInfra().databaseUrl, schema, max: 4 }));
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

  it('refuses a schema name that is not a plain identifier', () => {
    expect(() => new PgDriver({ url: requireInfra().databaseUrl, schema: 'x; DROP TABLE y' })).toThrow(
      /identifier/,
    );
  });
});
