/**
 * Groups and chatrooms on the cluster's PostgreSQL, and the write fan-out of a group message: a
 * 500-member group is appended with a fixed number of statements, not one per member
 * (protocol.md §6 Groups: batched in the storage layer).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeInfra, requireInfra, uniqueSchema } from '../../../test/support/infra.js';
import { SqlChatroomDirectory } from '../src/store/sql/chatrooms.sql.js';
import type { SqlDriver } from '../src/store/sql/driver.js';
import { PgDriver } from '../src/store/sql/driver.pg.js';
import { SqlGroupDirectory } from '../src/store/sql/groups.sql.js';
import { SqlMessageStore } from '../src/store/sql/store.sql.js';
import { SnowflakeUid } from '../src/uid.js';
import { chatroomDirectoryContract } from './contracts/chatroom-directory.contract.js';
import { groupDirectoryContract } from './contracts/group-directory.contract.js';
import { group, stored, unique } from './support.js';

describeInfra('group and chatroom directories (real PostgreSQL)', () => {
  const schema = uniqueSchema('dirs');
  let driver: PgDriver | null = null;
  let admin: pg.Client;

  const open = async () => {
    if (!driver) {
      driver = new PgDriver({ url: requireInfra().databaseUrl, schema, max: 4 });
      await driver.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    }
    return driver;
  };

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: requireInfra().databaseUrl });
    await admin.connect();
  });
  afterAll(async () => {
    await driver?.close();
    if (!admin) return;
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  groupDirectoryContract('sql (postgres)', async () => SqlGroupDirectory.open(await open()));
  chatroomDirectoryContract('sql (postgres)', async () => SqlChatroomDirectory.open(await open()));

  /** Counts every statement sent to the database, inside transactions too. */
  function counting(driver: SqlDriver): SqlDriver & { statements: string[] } {
    const statements: string[] = [];
    const wrap = (d: SqlDriver): SqlDriver => ({
      query: (text, params, name) => {
        statements.push(text);
        return d.query(text, params, name);
      },
      transaction: (fn) => d.transaction((tx) => fn(wrap(tx))),
      close: () => d.close(),
    });
    return Object.assign(wrap(driver), { statements });
  }

  describe('group write fan-out (protocol.md §6 Groups)', () => {
    it('appends a message to 500 inboxes in one statement, not 500', async () => {
      const driver = counting(await open());
      const store = await SqlMessageStore.open(driver);
      const members = Array.from({ length: 500 }, (_, i) => unique(`m${i}`));
      const uids = new SnowflakeUid(3);
      driver.statements.length = 0;
      const res = await store.append({
        message: stored({ uid: uids.next(), from: members[0] as string, conversation: group('g500') }),
        inboxUsers: members,
      });
      expect(res.seqs.size).toBe(500);
      expect([...res.seqs.values()].every((s) => s === 1)).toBe(true);
      // One statement (store.sql.ts APPEND_BATCH: the message row, the heads, the inbox rows),
      // whatever the group's size.
      expect(driver.statements.length).toBe(1);
      const inboxInserts = driver.statements.filter((s) => /INSERT INTO inbox/.test(s));
      expect(inboxInserts).toHaveLength(1);
      const { rows } = await driver.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM inbox WHERE uid = $1',
        [res.uid.toString()],
      );
      expect(Number(rows[0]?.n)).toBe(500);
      // Every member sees it in the group's history.
      const history = await store.history(members[499] as string, group('g500'), 0n, 10);
      expect(history.map((e) => e.message.uid)).toEqual([res.uid]);
    });

    it('creates a 500-member group with one statement for the members', async () => {
      const driver = counting(await open());
      const groups = await SqlGroupDirectory.open(driver);
      driver.statements.length = 0;
      const users = Array.from({ length: 500 }, (_, i) => `u${i}`);
      await groups.createGroup('big', users);
      expect(driver.statements.filter((s) => /INSERT INTO group_members/.test(s))).toHaveLength(1);
      expect(await groups.members('big')).toHaveLength(500);
    });
  });
});
