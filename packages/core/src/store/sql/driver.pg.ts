import { ImError, Status } from '@im/protocol';
import pg from 'pg';
import type { SqlDriver } from './driver.js';

export interface PgDriverOptions {
  /** postgres://user:password@host:port/db */
  url: string;
  /** Pool size; default 10. */
  max?: number;
  /**
   * Schema for every connection of the pool (search_path), created when missing. Tests use one
   * per file so runs never collide; in production leave it unset (the role's default, `public`).
   */
  schema?: string;
  /** Extra node-postgres pool settings. */
  pool?: pg.PoolConfig;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Socket errors of a database that cannot be reached (down, restarting, network). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
  'ENOTFOUND',
]);
/** SQLSTATEs of a server that is shutting down, starting up or out of connections. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** node-postgres' own messages for a connection that broke or could not be had in time. */
const UNAVAILABLE_MESSAGE = /^Connection terminated|timeout exceeded when trying to connect|not queryable/;

/**
 * protocol.md §3: a database that is down is UNAVAILABLE ("safe to retry the same request"), not an
 * INTERNAL error — the storage service's gRPC layer forwards an ImError's status as is, and answers
 * INTERNAL for anything else. Errors of the statements themselves (constraint violations,
 * serialization failures the store retries) pass through unchanged.
 */
export function pgUnavailable(err: unknown): unknown {
  if (err instanceof ImError || !(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  const reachable =
    !(
      typeof code === 'string' &&
      (UNREACHABLE_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))
    ) && !UNAVAILABLE_MESSAGE.test(err.message);
  if (reachable) return err;
  return new ImError(Status.UNAVAILABLE, 'the database is unavailable', { cause: err });
}

/** A driver bound to one checked-out client: every query of a transaction runs on it. */
function clientDriver(client: pg.PoolClient): SqlDriver {
  const self: SqlDriver = {
    query: async <R>(text: string, params?: unknown[], name?: string) => {
      const res = await client.query(name ? { name, text, values: params } : { text, values: params });
      return { rows: res.rows as R[] };
    },
    // Same transaction, no nesting (driver.ts).
    transaction: (fn) => fn(self),
    close: async () => {
      throw new Error('cannot close the pool from inside a transaction');
    },
  };
  return self;
}

/**
 * SqlDriver over node-postgres (the cluster's PostgreSQL): a pg.Pool; each transaction holds one
 * pooled connection from BEGIN to COMMIT/ROLLBACK. int8 values come back as strings, as the store
 * expects (it reads bigints with ::text casts anyway).
 */
export class PgDriver implements SqlDriver {
  readonly pool: pg.Pool;
  private closed = false;

  constructor(opts: PgDriverOptions) {
    if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) {
      throw new Error(`schema ${JSON.stringify(opts.schema)} must be a lower-case identifier`);
    }
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.max ?? 10,
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
      ...opts.pool,
    });
    // An idle client whose connection broke is dropped by the pool; without a listener the
    // 'error' event would crash the process.
    this.pool.on('error', () => {});
  }

  async query<R = Record<string, unknown>>(
    text: string,
    params?: unknown[],
    name?: string,
  ): Promise<{ rows: R[] }> {
    try {
      const res = await this.pool.query(name ? { name, text, values: params } : { text, values: params });
      return { rows: res.rows as R[] };
    } catch (err) {
      throw pgUnavailable(err);
    }
  }

  async transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    try {
      return await this.inTransaction(fn);
    } catch (err) {
      throw pgUnavailable(err);
    }
  }

  private async inTransaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const result = await fn(clientDriver(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr; // the connection is unusable: destroy it instead of pooling it
      }
      throw err;
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
