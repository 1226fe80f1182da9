import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { SqlDriver } from './sql/driver.js';
import { SqlMessageStore, type SqlMessageStoreOptions } from './sql/store.sql.js';

type Queryable = Pick<Transaction, 'query'>;

function txDriver(tx: Queryable): SqlDriver {
  const self: SqlDriver = {
    query: async <R>(text: string, params?: unknown[]) => tx.query<R>(text, params),
    transaction: (fn) => fn(self),
    close: async () => {
      throw new Error('cannot close the database from inside a transaction');
    },
  };
  return self;
}

/**
 * SqlDriver over embedded PostgreSQL (PGlite): one in-process connection; PGlite queues
 * concurrent transactions, so they run one after another.
 */
export function pgliteDriver(db: PGlite): SqlDriver {
  let closed = false;
  return {
    query: async <R>(text: string, params?: unknown[]) => db.query<R>(text, params),
    transaction: <T>(fn: (tx: SqlDriver) => Promise<T>) => db.transaction((tx) => fn(txDriver(tx))),
    close: async () => {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}

export interface PgliteStoreOptions extends SqlMessageStoreOptions {
  /** Directory of the database files (config dataDir); undefined = in memory, gone at close. */
  dataDir?: string;
}

/** The embedded mode's message store: PGlite + the shared SQL store, migrated on open. */
export async function openPgliteStore(opts: PgliteStoreOptions = {}): Promise<SqlMessageStore> {
  const db = opts.dataDir === undefined ? new PGlite() : new PGlite(opts.dataDir);
  await db.waitReady;
  const driver = pgliteDriver(db);
  try {
    return await SqlMessageStore.open(driver, opts);
  } catch (e) {
    await driver.close();
    throw e;
  }
}
