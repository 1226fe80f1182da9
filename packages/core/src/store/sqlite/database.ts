import {
  accessSync,
  closeSync,
  constants,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ImError, Status } from '@im/protocol';
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

const DONE = Promise.resolve();

const nodeSqlite = (path: string): SqliteConnection => new DatabaseSync(path) as unknown as SqliteConnection;

/**
 * The embedded store's one SQLite connection, shared by messages, groups and chatrooms.
 *
 * Durability (protocol.md §6 Send: stored durably before SendAck): WAL with `synchronous=NORMAL`,
 * so COMMIT writes the WAL without syncing it, and `durable()` then fdatasyncs the WAL file on
 * libuv's thread pool; the stores resolve a write only once a sync that began after its COMMIT has
 * completed. node:sqlite is synchronous: with `synchronous=FULL` the fsync inside COMMIT blocked
 * the event loop (about half of the embedded server's busy main-thread time at 5,000 msg/s,
 * docs/storage.md "Durability"). One sync runs at a time and covers every commit before it began,
 * so commits made while it runs share the next one (group sync). Reads that could see a commit not
 * yet synced wait for it too (`readDurable`): nothing not durable is ever shown to a client.
 * A failed sync leaves the database unusable (UNAVAILABLE until restart): after a failed fsync the
 * kernel may have dropped the pages, so nothing since the last good sync can be trusted as stored.
 * Checkpoints and close sync by themselves under NORMAL (the WAL before, the database after).
 *
 * `locking_mode=EXCLUSIVE`, taken by the first write at open, keeps the file to this process: a
 * second server on the same data directory fails at start instead of sharing it, and WAL needs no
 * shared-memory index. Statements never interleave: a transaction runs from BEGIN to COMMIT within
 * one call.
 */
export class SqliteDatabase {
  readonly path: string;
  private readonly conn: SqliteConnection;
  private readonly statements = new Map<string, SqliteStatement>();
  private closed = false;
  /** Transactions committed since open, and how many of them the last completed sync covers. */
  private commits = 0;
  private synced = 0;
  /** The WAL file, opened at the first sync (SQLite creates it with the first write). */
  private walFd: number | null = null;
  private syncing = false;
  private syncFailure: ImError | null = null;
  private waiters: { upTo: number; resolve: () => void; reject: (err: unknown) => void }[] = [];

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
      conn.exec('PRAGMA synchronous = NORMAL');
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
   * Runs fn between BEGIN IMMEDIATE and COMMIT; ROLLBACK if anything throws. Committed, not yet
   * durable when it returns: `durable()` says when. Errors come out as storeError() maps them
   * (UNAVAILABLE when the disk or file failed).
   */
  transaction<T>(fn: () => T): T {
    this.ensureOpen();
    try {
      // Prepared once, like every statement: exec() would parse the text on every transaction.
      this.statement('BEGIN IMMEDIATE').run();
      const result = fn();
      this.statement('COMMIT').run();
      // In memory (tests) there is no disk to wait for.
      if (this.path !== ':memory:') this.commits++;
      return result;
    } catch (err) {
      this.rollback();
      throw storeError(err);
    }
  }

  /** A transaction, resolved once it is durable. */
  async write<T>(fn: () => T): Promise<T> {
    const result = this.transaction(fn);
    await this.durable();
    return result;
  }

  /** Runs a read with the store's error mapping (it may see commits not yet durable). */
  read<T>(fn: () => T): T {
    this.ensureOpen();
    try {
      return fn();
    } catch (err) {
      throw storeError(err);
    }
  }

  /** A read whose result is handed out only once every commit it could see is durable. */
  async readDurable<T>(fn: () => T): Promise<T> {
    const result = this.read(fn);
    await this.durable();
    return result;
  }

  /** Resolves once every transaction committed before the call is on disk (see the class comment). */
  durable(): Promise<void> {
    if (this.syncFailure) return Promise.reject(this.syncFailure);
    if (this.synced >= this.commits) return DONE;
    return new Promise((resolve, reject) => {
      this.waiters.push({ upTo: this.commits, resolve, reject });
      this.startSync();
    });
  }

  private startSync(): void {
    if (this.syncing || this.waiters.length === 0 || this.closed) return;
    let fd: number;
    try {
      fd = this.wal();
    } catch (err) {
      this.failSync(err);
      return;
    }
    this.syncing = true;
    const upTo = this.commits;
    fdatasync(fd, (err) => {
      this.syncing = false;
      if (this.closed) {
        // close() synced and settled everything, and left the descriptor to this callback.
        closeSync(fd);
        return;
      }
      if (err) {
        this.failSync(err);
        return;
      }
      this.synced = upTo;
      this.settle();
      this.startSync();
    });
  }

  /** Resolves the waiters the completed syncs cover, in the order they came. */
  private settle(): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.upTo <= this.synced) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private failSync(err: unknown): void {
    const reason = err instanceof Error ? err.message : String(err);
    this.syncFailure = new ImError(
      Status.UNAVAILABLE,
      `the message store is unavailable: syncing the database to disk failed (${reason}); restart the server`,
      { cause: err },
    );
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(this.syncFailure);
  }

  /** The WAL file's descriptor; the first time, its directory entry is synced too (a new file). */
  private wal(): number {
    if (this.walFd === null) {
      this.walFd = openSync(`${this.path}-wal`, 'r');
      const dir = openSync(dirname(this.path), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
    return this.walFd;
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

  /**
   * Safe to repeat. What was committed is synced here (and by SQLite's closing checkpoint), so the
   * writes still waiting for a sync resolve.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    let failure: unknown = this.syncFailure;
    if (!failure && this.synced < this.commits) {
      try {
        fdatasyncSync(this.wal());
        this.synced = this.commits;
      } catch (err) {
        failure = err;
      }
    }
    if (failure) this.failSync(failure);
    else this.settle();
    this.conn.close();
    // A sync still running on the thread pool holds the descriptor: its callback closes it.
    if (this.walFd !== null && !this.syncing) closeSync(this.walFd);
    this.walFd = null;
  }

  private ensureOpen(): void {
    if (this.syncFailure) throw this.syncFailure;
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
