/** Groups and chatrooms on the embedded store's SQLite database: the same contracts as memory and PostgreSQL. */
import { afterAll } from 'vitest';
import { SqliteChatroomDirectory } from '../src/store/sqlite/chatrooms.sqlite.js';
import { SqliteDatabase } from '../src/store/sqlite/database.js';
import { SqliteGroupDirectory } from '../src/store/sqlite/groups.sqlite.js';
import { chatroomDirectoryContract } from './contracts/chatroom-directory.contract.js';
import { groupDirectoryContract } from './contracts/group-directory.contract.js';

// One database per suite, shared by its tests (ids are unique per test).
let db: SqliteDatabase | null = null;
const shared = () => {
  db ??= SqliteDatabase.open();
  return db;
};
afterAll(() => db?.close());

groupDirectoryContract('sqlite', async () => new SqliteGroupDirectory(shared()));
chatroomDirectoryContract('sqlite', async () => new SqliteChatroomDirectory(shared()));
