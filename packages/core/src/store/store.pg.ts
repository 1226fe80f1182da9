import { PgDriver, type PgDriverOptions } from './sql/driver.pg.js';
import { SqlMessageStore, type SqlMessageStoreOptions } from './sql/store.sql.js';

export interface PgStoreOptions extends SqlMessageStoreOptions, Omit<PgDriverOptions, 'url'> {}

/**
 * The cluster's message store: PostgreSQL through node-postgres + the same SQL store and
 * migrations as every SqlDriver, migrated on open.
 */
export async function openPgStore(url: string, opts: PgStoreOptions = {}): Promise<SqlMessageStore> {
  const { maxBatch, retries, onBatch, ...driverOpts } = opts;
  const driver = new PgDriver({ url, ...driverOpts });
  try {
    if (driverOpts.schema) await driver.query(`CREATE SCHEMA IF NOT EXISTS ${driverOpts.schema}`);
    const storeOpts: SqlMessageStoreOptions = {};
    if (maxBatch !== undefined) storeOpts.maxBatch = maxBatch;
    if (retries !== undefined) storeOpts.retries = retries;
    if (onBatch !== undefined) storeOpts.onBatch = onBatch;
    return await SqlMessageStore.open(driver, storeOpts);
  } catch (e) {
    await driver.close();
    throw e;
  }
}
