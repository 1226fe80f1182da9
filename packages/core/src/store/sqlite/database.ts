import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openFailure, StoreOpenError, storeError } from './errors.js';
import { SQLITE_SCHEMA } from './schema.js';

/** What SQLite takes as a parameter. */
export type SqlValue = null | number | bigint | string | Uint8Array;

/** The part of a prepared statement the stores use (node:sqlite's StatementSync has it). */
export interface SqliteStatement {
  run(...params: SqlValue[]): { changes: number | bigint };
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
  /** Rows one at a time; leaving the loop early resets the statement. */
  iterate(...params: SqlValue[]): IterableIterator<unknown>;
  setReadBigInts(enabled: boolean): void;
}

/** The part of a connection the stores use (node:sqlite's DatabaseSync has it). */
export interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  close(): void;
  readonly isTransaction: boolean;
}

export interface SqliteOpenOptions {
  /** The database file; undefined = in memory (tests), gone at close. */
  path?: string;
  /** Opens the connection; default node:sqlite. The store benchmark passes another engine here. */
  connect?: (path: string) => SqliteConnection;
}

/**
 * Creates the data directory if needed and checks that this process can write it, so an unusable
 * one is a StoreOpenError that says what to do (root passes permission bits, not a read-only mount).
 */
export function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw openFailure(dir, err);
  }
}

const nodeSqlite = (path: string): SqliteConnection => new DatabaseSync(path) as unknown as SqliteConnection;

/**
 * The embedded store's one SQLite connection, shared by messages, groups and chatrooms.
 *
 * Durability (protocol.md §6 Send: stored durably before SendAck): WAL with `synchronous=FULL`, so
 * every COMMIT fsyncs the WAL before it returns; the stores resolve a write only after its COMMIT.
 * `locking_mode=EXCLUSIVE`, taken by the first write at open, keeps the file to this process: a
 * second server on the same data directory fails at start instead of sharing it, and WAL needs no
 * shared-memory index. node:sqlite is synchronous, so statements never interleave: a transaction
 * runs from BEGIN to COMMIT within one call.
 */
export class SqliteDatabase {
  readonly path: string;
  private readonly conn: SqliteConnection;
  private readonly statements = new Map<string, SqliteStatement>();
  private closed = false;

  private constructor(path: string, conn: SqliteConnection) {
    this.path = path;
    this.conn = conn;
  }

  /** Opens (creating the file and its directory) and migrates; a StoreOpenError says why it cannot. */
  static open(opts: SqliteOpenOptions = {}): SqliteDatabase {
    const path = opts.path ?? ':memory:';
    let conn: SqliteConnection | undefined;
    try {
      if (opts.path !== undefined) prepareDataDir(dirname(opts.path));
      conn = (opts.connect ?? nodeSqlite)(path);
      conn.exec('PRAGMA locking_mode = EXCLUSIVE');
      const mode = conn.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode?: string } | undefined;
      if (opts.path !== undefined && mode?.journal_mode !== 'wal') {
        throw new Error(`the database refused WAL mode (journal_mode is ${mode?.journal_mode})`);
      }
      conn.exec('PRAGMA synchronous = FULL');
      const db = new SqliteDatabase(path, conn);
      // The first write takes the exclusive lock, so a second process fails here, not later.
      db.migrate();
      return db;
    } catch (err) {
      try {
        conn?.close();
      } catch {
        // already failing: the open error is the one to report
      }
      throw err instanceof StoreOpenError ? err : openFailure(path, err);
    }
  }

  /** A prepared statement, prepared once per text. */
  statement(sql: string): SqliteStatement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.conn.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /**
   * Runs fn between BEGIN IMMEDIATE and COMMIT (durable when it returns); ROLLBACK if anything
   * throws. Errors come out as storeError() maps them (UNAVAILABLE when the disk or file failed).
   */
  transaction<T>(fn: () => T): T {
    this.ensureOpen();
    try {
      // Prepared once, like every statement: exec() would parse the text on every transaction.
      this.statement('BEGIN IMMEDIATE').run();
      const result = fn();
      this.statement('COMMIT').run();
      return result;
    } catch (err) {
      this.rollback();
      throw storeError(err);
    }
  }

  /** Runs a read (or a single autocommitted write) with the store's error mapping. */
  read<T>(fn: () => T): T {
    this.ensureOpen();
    try {
      return fn();
    } catch (err) {
      throw storeError(err);
    }
  }

  exec(sql: string): void {
    this.conn.exec(sql);
  }

  /** Ends the open transaction, if the failure left one (SQLite rolls some back by itself). */
  rollback(): void {
    if (!this.conn.isTransaction) return;
    try {
      this.conn.exec('ROLLBACK');
    } catch {
      // the connection already rolled back, or cannot: either way nothing of it was committed
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Safe to repeat. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    this.conn.close();
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error('the message store is closed');
  }

  private migrate(): void {
    this.conn.exec('BEGIN IMMEDIATE');
    try {
      const row = this.conn.prepare('PRAGMA user_version').get() as { user_version: number };
      let version = row.user_version;
      for (const step of SQLITE_SCHEMA) {
        if (step.version <= version) continue;
        for (const sql of step.statements) this.conn.exec(sql);
        version = step.version;
      }
      // Written even when unchanged: a write is what takes the exclusive lock (see above).
      this.conn.exec(`PRAGMA user_version = ${version}`);
      this.conn.exec('COMMIT');
    } catch (err) {
      this.rollback();
      throw err;
    }
  }
}
