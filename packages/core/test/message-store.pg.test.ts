import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInfra, requireInfra, uniqueSchema } from '../../../test/support/infra.js';
import type { AppendRequest } from '../src/ports.js';
import { PgDriver } from '../src/store/sql/driver.pg.js';
import { MIGRATIONS, migrate } from '../src/store/sql/migrations.js';
import type { SqlMessageStore } from '../src/store/sql/store.sql.js';
import { openPgStore } from '../src/store/store.pg.js';
import { SnowflakeUid } from '../src/uid.js';
import { messageStoreContract } from './contracts/message-store.contract.js';
import { single, stored, unique } from './support.js';

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
  const dm = (from: string, to: string): AppendRequest => ({
    message: stored({ uid: uids.next(), from, to, conversation: single(to) }),
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

  it('refuses a schema name that is not a plain identifier', () => {
    expect(() => new PgDriver({ url: requireInfra().databaseUrl, schema: 'x; DROP TABLE y' })).toThrow(
      /identifier/,
    );
  });
});
