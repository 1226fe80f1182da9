import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { describeInfra, requireInfra, uniqueSchema } from '../../../test/support/infra.js';
import { SqlChatroomDirectory } from '../src/store/sql/chatrooms.sql.js';
import { PgDriver } from '../src/store/sql/driver.pg.js';
import { SqlGroupDirectory } from '../src/store/sql/groups.sql.js';
import { chatroomDirectoryContract } from './contracts/chatroom-directory.contract.js';
import { groupDirectoryContract } from './contracts/group-directory.contract.js';

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
});
