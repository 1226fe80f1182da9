/**
 * The little the SQL message store needs from a PostgreSQL client: node-postgres (driver.pg.ts) in
 * the cluster; tests wrap it (to count statements or fail a transaction), and the PGlite import test
 * of the embedded server runs the same store over PGlite. Values cross this interface as:
 *   - bigint columns: sent as decimal strings, read back with `::text` casts (exact whatever a
 *     client makes of int8);
 *   - bytea: Uint8Array in, Uint8Array (or Buffer) out;
 *   - text[] / bigint[] parameters: JS arrays (of strings for bigint[]).
 */
export interface SqlDriver {
  /**
   * One statement (no multi-statement strings: the extended protocol, used with parameters, refuses
   * them). With `name` the statement is prepared once per connection and reused (the hot ones).
   */
  query<R = Record<string, unknown>>(text: string, params?: unknown[], name?: string): Promise<{ rows: R[] }>;
  /**
   * Runs fn inside BEGIN … COMMIT on one connection (ROLLBACK if it throws). Calling
   * `transaction` on the `tx` handed to fn runs fn in the same transaction (no nesting).
   */
  transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** PostgreSQL SQLSTATEs after which the whole transaction may simply be run again. */
export const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
