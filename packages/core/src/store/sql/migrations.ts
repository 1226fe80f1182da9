import type { SqlDriver } from './driver.js';

export interface Migration {
  version: number;
  name: string;
  /** Statements run in order, in the migration transaction. */
  statements: string[];
}

/**
 * The schema, in order; never edit an applied migration, add a new one.
 *
 * Layout (protocol.md §6 Inbox and seq): one `messages` row per accepted message, keyed by uid,
 * shared by every inbox; `inbox` rows (user_id, seq) point at it, with the conversation as THAT
 * user sees it, so history is one index range; `user_heads` holds each user's last seq and is the
 * row locked to number an append. Every access is keyed by user id or uid, so the tables can be
 * distributed by user later.
 *
 * MessageContent is stored as columns (not a protobuf blob): readable in psql, and the store does
 * not depend on the wire codec. uint32 fields are bigint (int4 is signed). uint64 ids are mapped to
 * signed bigint by two's complement (store.sql.ts); uids never reach 2^63 by their layout.
 * Idempotency (protocol.md §6 Send: (from, deviceId, messageId)) is the partial unique index;
 * messageId 0 means "no key".
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'messages, inbox, user_heads',
    statements: [
      `CREATE TABLE messages (
        uid bigint PRIMARY KEY,
        message_id bigint NOT NULL,
        from_user text NOT NULL,
        from_device text NOT NULL,
        to_user text NOT NULL,
        conv_type bigint NOT NULL,
        conv_target text NOT NULL,
        server_time bigint NOT NULL,
        e2e boolean NOT NULL,
        sender_seq bigint NOT NULL DEFAULT 0,
        content_type bigint NOT NULL,
        searchable text NOT NULL,
        push text NOT NULL,
        data bytea NOT NULL,
        mentioned_type bigint NOT NULL,
        mentioned_targets text[] NOT NULL,
        media_type bigint NOT NULL,
        msg_length bigint NOT NULL,
        remote_media_url text NOT NULL,
        local_media_path text NOT NULL
      )`,
      `CREATE UNIQUE INDEX messages_idempotency ON messages (from_user, from_device, message_id)
        WHERE message_id <> 0`,
      `CREATE TABLE user_heads (
        user_id text PRIMARY KEY,
        head bigint NOT NULL
      )`,
      `CREATE TABLE inbox (
        user_id text NOT NULL,
        seq bigint NOT NULL,
        uid bigint NOT NULL,
        conv_type bigint NOT NULL,
        conv_peer text NOT NULL,
        PRIMARY KEY (user_id, seq)
      )`,
      'CREATE INDEX inbox_history ON inbox (user_id, conv_type, conv_peer, uid DESC)',
    ],
  },
  {
    // protocol.md §6 Groups (membership managed by the admin API, §7) and Chatrooms (rooms exist
    // once the admin API creates them; who is present lives in the ChatroomRegistry, not here).
    // Members are keyed by group id: a send reads one index range. Times are ms since epoch.
    version: 2,
    name: 'groups, group_members, chatrooms',
    statements: [
      `CREATE TABLE groups (
        id text PRIMARY KEY,
        created_at bigint NOT NULL
      )`,
      `CREATE TABLE group_members (
        group_id text NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        user_id text NOT NULL,
        PRIMARY KEY (group_id, user_id)
      )`,
      `CREATE TABLE chatrooms (
        id text PRIMARY KEY,
        created_at bigint NOT NULL,
        last_active_at bigint NOT NULL
      )`,
      'CREATE INDEX chatrooms_idle ON chatrooms (last_active_at)',
    ],
  },
];

/** Arbitrary constant: serializes concurrent migrators (several services starting at once). */
const MIGRATION_LOCK_KEY = 0x696d5f6d; // "im_m"

/**
 * Applies the migrations not yet recorded in schema_migrations, in one transaction, under an
 * advisory lock. Safe to run at every startup and from several processes at once.
 * Returns the versions applied now.
 */
export async function migrate(
  driver: SqlDriver,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  return driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => Number(r.version)));
    const done: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      for (const statement of m.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      done.push(m.version);
    }
    return done;
  });
}
