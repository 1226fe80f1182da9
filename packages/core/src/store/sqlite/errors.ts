import { ImError, Status } from '@im/protocol';

/**
 * SQLite's primary result codes (https://sqlite.org/rescode.html) that say the database or its
 * disk is at fault, not the request: each becomes UNAVAILABLE ("safe to retry the same request",
 * protocol.md §3) with the reason, and the store keeps serving once the cause is gone.
 */
const ENVIRONMENT: ReadonlyMap<number, string> = new Map([
  [3, 'the data directory refuses access'], // SQLITE_PERM
  [5, 'the database is locked by another process'], // SQLITE_BUSY
  [6, 'the database is locked'], // SQLITE_LOCKED
  [7, 'out of memory'], // SQLITE_NOMEM
  [8, 'the data directory is not writable'], // SQLITE_READONLY
  [10, 'the disk failed to read or write'], // SQLITE_IOERR
  [11, 'the database file is corrupt'], // SQLITE_CORRUPT
  [13, 'the disk is full'], // SQLITE_FULL
  [14, 'the database file cannot be opened'], // SQLITE_CANTOPEN
  [15, 'the database file was changed by another process'], // SQLITE_PROTOCOL
  [26, 'the file is not a database (or is encrypted or corrupt)'], // SQLITE_NOTADB
]);

/** node:sqlite puts the extended result code on the error as `errcode`; the primary one is its low byte. */
export function sqliteCode(err: unknown): number | undefined {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' ? code & 0xff : undefined;
}

/** The reason the database itself failed, or undefined when the error is about one statement's data. */
export function environmentFailure(err: unknown): string | undefined {
  const code = sqliteCode(err);
  return code === undefined ? undefined : ENVIRONMENT.get(code);
}

/**
 * From a SQLite error to what the client gets: UNAVAILABLE with the reason when the database or its
 * disk failed; anything else (a constraint the store itself should never break) passes through, to
 * be answered INTERNAL and logged. (No value a frame can carry is too large for SQLite: its limit
 * is 1 GB a value, frames are capped far below, protocol.md §8.4.)
 */
export function storeError(err: unknown): unknown {
  if (err instanceof ImError) return err;
  const reason = environmentFailure(err);
  if (reason !== undefined) {
    return new ImError(Status.UNAVAILABLE, `the message store is unavailable: ${reason}`, { cause: err });
  }
  return err;
}

/**
 * The store cannot start: the data directory or the database file is unusable. The message names
 * the file, the cause and what to do, for the operator; the server exits instead of serving.
 */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

/** What an operator can do about each failure at start. */
export function openFailure(path: string, err: unknown): StoreOpenError {
  const code = sqliteCode(err) ?? fsCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  let advice: string;
  switch (code) {
    case 5:
    case 6:
      advice = `${path} is in use by another process (another server on the same IM_DATA_DIR?); stop it, or give this one its own IM_DATA_DIR`;
      break;
    case 11:
    case 26:
      advice = `${path} is corrupt or not a database; restore it from a backup, or move it (with its -wal file) aside to start empty`;
      break;
    case 13:
    case 'ENOSPC':
      advice = `the disk holding ${path} is full; free some space and start again`;
      break;
    case 3:
    case 8:
    case 14:
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      advice = `cannot write ${path}: make its directory writable by this user, or set IM_DATA_DIR to one that is`;
      break;
    default:
      advice = `cannot open ${path}`;
  }
  return new StoreOpenError(`${advice} (${detail})`, { cause: err });
}

function fsCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && !code.startsWith('ERR_') ? code : undefined;
}
