/**
 * One-time import of an embedded data directory written before the SQLite store: PGlite's
 * PostgreSQL files in <dataDir>/pg (docs/storage.md "From PGlite"). Runs at start when that folder
 * exists and no SQLite database does yet: every table is copied into a new database file, counted,
 * committed (fsynced), and only then renamed into place; the PGlite folder is then renamed to
 * pg.imported, so the next start neither imports again nor reads it. A crash part-way leaves the
 * PGlite folder as it was and no database file: the next start imports again from the beginning.
 *
 * @electric-sql/pglite is loaded only here, and only when there is something to import.
 */
import { existsSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Logger, SqliteDatabase, type SqlValue, StoreOpenError } from '@im/core';

/** The PGlite folder inside the data directory (what the embedded server wrote before). */
export const PGLITE_DIR = 'pg';
/** What the PGlite folder is renamed to once imported (kept: the operator deletes it). */
export const PGLITE_IMPORTED_DIR = 'pg.imported';
const PAGE = 5_000;

interface Pg {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
  close(): Promise<void>;
}

/**
 * Imports <dataDir>/pg into dbPath when there is one to import; a no-op otherwise. Throws
 * StoreOpenError (the server does not start) when the PGlite data cannot be read.
 */
export async function importPgliteIfPresent(dataDir: string, dbPath: string, logger: Logger): Promise<void> {
  const pgDir = join(dataDir, PGLITE_DIR);
  if (!existsSync(pgDir)) return;
  if (existsSync(dbPath)) {
    logger.warn(
      { pgDir, dbPath },
      `${pgDir} (the PGlite data of an older version) is not imported: ${dbPath} exists already. Move ${dbPath} aside to import it, or delete ${pgDir}.`,
    );
    return;
  }
  const started = performance.now();
  logger.info({ pgDir, dbPath }, 'importing the PGlite data directory into SQLite (once)');
  let pg: Pg;
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = new PGlite(pgDir);
    await db.waitReady;
    pg = db;
  } catch (err) {
    throw new StoreOpenError(
      `cannot read ${pgDir} (PGlite data of an older version) to import it: ${(err as Error).message}. Move it aside to start with an empty store.`,
      { cause: err },
    );
  }
  const tmp = `${dbPath}.import`;
  try {
    await rm(tmp, { force: true });
    await rm(`${tmp}-wal`, { force: true });
    const counts = await copy(pg, SqliteDatabase.open({ path: tmp }));
    await rename(tmp, dbPath);
    await fsyncDir(dirname(dbPath));
    await pg.close();
    await rename(pgDir, join(dataDir, PGLITE_IMPORTED_DIR));
    await fsyncDir(dataDir);
    logger.info(
      {
        ...counts,
        seconds: Math.round(performance.now() - started) / 1000,
        kept: join(dataDir, PGLITE_IMPORTED_DIR),
      },
      'imported the PGlite data; its folder was renamed and can be deleted',
    );
  } catch (err) {
    await pg.close().catch(() => {});
    await rm(tmp, { force: true });
    if (err instanceof StoreOpenError) throw err;
    throw new StoreOpenError(`cannot import ${pgDir} into ${dbPath}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Copies every table page by page (keyset order), then checks the row counts. */
async function copy(pg: Pg, db: SqliteDatabase): Promise<Record<string, number>> {
  try {
    const counts = {
      messages: await copyTable(pg, db, {
        select: `SELECT uid::text, message_id::text, from_user, from_device, to_user,
          conv_type::text, conv_target, server_time::text, e2e, content_type::text, searchable, push, data,
          mentioned_type::text, mentioned_targets, media_type::text, msg_length::text, remote_media_url,
          local_media_path FROM messages WHERE uid > $1::bigint ORDER BY messages.uid LIMIT $2`,
        first: [String(-(2n ** 63n))],
        key: (r) => [r.uid],
        insert: `INSERT INTO messages (uid, message_id, from_user, from_device, to_user, conv_type, conv_target,
          server_time, e2e, content_type, searchable, push, data, mentioned_type, mentioned_targets, media_type,
          msg_length, remote_media_url, local_media_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        values: (r) => [
          BigInt(r.uid as string),
          BigInt(r.message_id as string),
          r.from_user as string,
          r.from_device as string,
          r.to_user as string,
          BigInt(r.conv_type as string),
          r.conv_target as string,
          BigInt(r.server_time as string),
          r.e2e ? 1 : 0,
          BigInt(r.content_type as string),
          r.searchable as string,
          r.push as string,
          new Uint8Array(r.data as Uint8Array),
          BigInt(r.mentioned_type as string),
          JSON.stringify(r.mentioned_targets ?? []),
          BigInt(r.media_type as string),
          BigInt(r.msg_length as string),
          r.remote_media_url as string,
          r.local_media_path as string,
        ],
      }),
      inbox: await copyTable(pg, db, {
        select: `SELECT user_id, seq::text, uid::text, conv_type::text, conv_peer FROM inbox
          WHERE (user_id, seq) > ($1, $2::bigint) ORDER BY inbox.user_id, inbox.seq LIMIT $3`,
        first: ['', '0'],
        key: (r) => [r.user_id, r.seq],
        insert: 'INSERT INTO inbox (user_id, seq, uid, conv_type, conv_peer) VALUES (?, ?, ?, ?, ?)',
        values: (r) => [
          r.user_id as string,
          BigInt(r.seq as string),
          BigInt(r.uid as string),
          BigInt(r.conv_type as string),
          r.conv_peer as string,
        ],
      }),
      groups: await copyTable(pg, db, {
        select: 'SELECT id, created_at::text FROM groups WHERE id > $1 ORDER BY id LIMIT $2',
        first: [''],
        key: (r) => [r.id],
        insert: 'INSERT INTO groups (id, created_at) VALUES (?, ?)',
        values: (r) => [r.id as string, BigInt(r.created_at as string)],
      }),
      group_members: await copyTable(pg, db, {
        select: `SELECT group_id, user_id FROM group_members
          WHERE (group_id, user_id) > ($1, $2) ORDER BY group_id, user_id LIMIT $3`,
        first: ['', ''],
        key: (r) => [r.group_id, r.user_id],
        insert: 'INSERT INTO group_members (group_id, user_id) VALUES (?, ?)',
        values: (r) => [r.group_id as string, r.user_id as string],
      }),
      chatrooms: await copyTable(pg, db, {
        select: `SELECT id, created_at::text, last_active_at::text FROM chatrooms
          WHERE id > $1 ORDER BY id LIMIT $2`,
        first: [''],
        key: (r) => [r.id],
        insert: 'INSERT INTO chatrooms (id, created_at, last_active_at) VALUES (?, ?, ?)',
        values: (r) => [r.id as string, BigInt(r.created_at as string), BigInt(r.last_active_at as string)],
      }),
    };
    for (const [table, copied] of Object.entries(counts)) {
      const { rows } = await pg.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`);
      if (Number(rows[0]?.n) !== copied)
        throw new Error(`${table}: ${rows[0]?.n} rows in PGlite, ${copied} copied`);
    }
    return counts;
  } finally {
    db.close();
  }
}

async function copyTable(
  pg: Pg,
  db: SqliteDatabase,
  t: {
    /**
     * Rows after the key in $1…$k (keyset order, on the table's primary key), at most $k+1. ORDER BY
     * names table columns (`inbox.seq`): a bare name would be the `::text` output column, in text order.
     */
    select: string;
    first: unknown[];
    key: (r: Record<string, unknown>) => unknown[];
    insert: string;
    values: (r: Record<string, unknown>) => SqlValue[];
  },
): Promise<number> {
  let after = t.first;
  let copied = 0;
  for (;;) {
    const { rows } = await pg.query<Record<string, unknown>>(t.select, [...after, PAGE]);
    if (rows.length === 0) return copied;
    db.transaction(() => {
      const insert = db.statement(t.insert);
      for (const r of rows) insert.run(...t.values(r));
    });
    copied += rows.length;
    after = t.key(rows[rows.length - 1] as Record<string, unknown>);
  }
}

/** A rename is durable once its directory is fsynced. */
async function fsyncDir(dir: string): Promise<void> {
  const fd = await open(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}
