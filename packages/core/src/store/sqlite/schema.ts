/**
 * The embedded store's schema (SQLite), in order; never edit an applied version, add a new one.
 * The version reached is kept in `PRAGMA user_version`.
 *
 * The same layout as the cluster's PostgreSQL (store/sql/migrations.ts; docs/storage.md), less
 * `user_heads`: one process holds the database (an exclusive lock, database.ts), so an inbox's head
 * is `max(seq)` of its rows, read once and then kept in memory by the store (store.sqlite.ts).
 * Integer columns hold uint64 ids as signed 64-bit by two's complement, as in PostgreSQL.
 * `mentioned_targets` is a JSON array. STRICT tables refuse a value of the wrong type instead of
 * storing it converted.
 */
export const SQLITE_SCHEMA: readonly { version: number; name: string; statements: string[] }[] = [
  {
    version: 1,
    name: 'messages, inbox, groups, group_members, chatrooms',
    statements: [
      `CREATE TABLE messages (
        uid INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL,
        from_user TEXT NOT NULL,
        from_device TEXT NOT NULL,
        to_user TEXT NOT NULL,
        conv_type INTEGER NOT NULL,
        conv_target TEXT NOT NULL,
        server_time INTEGER NOT NULL,
        e2e INTEGER NOT NULL,
        content_type INTEGER NOT NULL,
        searchable TEXT NOT NULL,
        push TEXT NOT NULL,
        data BLOB NOT NULL,
        mentioned_type INTEGER NOT NULL,
        mentioned_targets TEXT NOT NULL,
        media_type INTEGER NOT NULL,
        msg_length INTEGER NOT NULL,
        remote_media_url TEXT NOT NULL,
        local_media_path TEXT NOT NULL
      ) STRICT`,
      // protocol.md §6 Send: the idempotency key; messageId 0 means "no key".
      `CREATE UNIQUE INDEX messages_idempotency ON messages (from_user, from_device, message_id)
        WHERE message_id <> 0`,
      `CREATE TABLE inbox (
        user_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        conv_type INTEGER NOT NULL,
        conv_peer TEXT NOT NULL,
        PRIMARY KEY (user_id, seq)
      ) STRICT, WITHOUT ROWID`,
      'CREATE INDEX inbox_history ON inbox (user_id, conv_type, conv_peer, uid)',
      `CREATE TABLE groups (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID`,
      `CREATE TABLE group_members (
        group_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (group_id, user_id)
      ) STRICT, WITHOUT ROWID`,
      `CREATE TABLE chatrooms (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        last_active_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID`,
      'CREATE INDEX chatrooms_idle ON chatrooms (last_active_at)',
    ],
  },
];
