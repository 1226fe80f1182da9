import { ContentType, ImError, Status } from '@im/protocol';
import type {
  AppendRequest,
  AppendResult,
  Conversation,
  InboxEntry,
  MessageStore,
  PullPage,
  StoredMessage,
} from '../../ports.js';
import { conversationFor, sortedUsers } from '../inbox.js';
import { RETRYABLE_SQLSTATES, type SqlDriver, sqlState } from './driver.js';
import { migrate } from './migrations.js';

export interface SqlMessageStoreOptions {
  /** Most appends committed in one transaction (group commit); default 256. */
  maxBatch?: number;
  /** Times a transaction that hit a deadlock or serialization failure is run again; default 3. */
  retries?: number;
  /** Told after each group-commit transaction (metrics: batch size and commit time). */
  onBatch?: (info: { size: number; seconds: number; ok: boolean }) => void;
}

/** uint64 ↔ signed bigint column, by two's complement (messageId is any uint64 a client sends). */
const toDb = (v: bigint): string => BigInt.asIntN(64, v).toString();
const fromDb = (v: unknown): bigint => BigInt.asUintN(64, BigInt(v as string));
const num = (v: unknown): number => Number(v);

/**
 * The columns an append writes, with the type of the unnest() array that carries each one: a batch
 * is ONE parameter per column (not per value), so the statement text is the same for any batch size
 * and PostgreSQL parses 19 arrays instead of 19 × n scalars.
 * mentioned_targets (text[] per row) travels as one array literal per row, cast back in SQL.
 */
const MESSAGE_COLUMNS = [
  ['uid', 'bigint'],
  ['message_id', 'bigint'],
  ['from_user', 'text'],
  ['from_device', 'text'],
  ['to_user', 'text'],
  ['conv_type', 'bigint'],
  ['conv_target', 'text'],
  ['server_time', 'bigint'],
  ['e2e', 'boolean'],
  ['content_type', 'bigint'],
  ['searchable', 'text'],
  ['push', 'text'],
  ['data', 'bytea'],
  ['mentioned_type', 'bigint'],
  ['mentioned_targets', 'text'],
  ['media_type', 'bigint'],
  ['msg_length', 'bigint'],
  ['remote_media_url', 'text'],
  ['local_media_path', 'text'],
] as const;

const MESSAGE_COLUMN_NAMES = MESSAGE_COLUMNS.map(([name]) => name).join(', ');

/**
 * One group commit in ONE statement (one round trip, autocommit, prepared once per connection):
 *   m  the batch's message rows, $1..$19, in idempotency-key order (step 1 of appendBatch);
 *   ins  inserted in that order; ON CONFLICT leaves out resends (of a committed message, or of an
 *        earlier one in the same batch): what ins returns are the new messages;
 *   r  the inbox rows of the new messages, $20..$24 (message index, user, the conversation as that
 *      user sees it, uid), in queue order;
 *   h  every inbox user's head bumped by its count of new rows, the users locked in sorted order —
 *      two commits lock shared users in the same order, so they cannot deadlock, and the one that
 *      locks first numbers first in EVERY shared inbox;
 *   s  seqs handed out in queue order (head - count + rank); the inbox rows are written.
 * Answers 'seq' rows (message index, user, seq) and 'new' rows (the uids inserted).
 */
const APPEND_BATCH = `WITH m AS (
    SELECT * FROM unnest(${MESSAGE_COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
      WITH ORDINALITY AS t(${MESSAGE_COLUMN_NAMES}, ord)
  ),
  ins AS (
    INSERT INTO messages (${MESSAGE_COLUMN_NAMES})
    SELECT ${MESSAGE_COLUMNS.map(([name]) => (name === 'mentioned_targets' ? `${name}::text[]` : name)).join(', ')}
      FROM m ORDER BY ord
    ON CONFLICT (from_user, from_device, message_id) WHERE message_id <> 0 DO NOTHING
    RETURNING uid
  ),
  r AS (
    SELECT x.msg, x.user_id, x.conv_type, x.peer, x.uid, x.rank
      FROM unnest($20::int[], $21::text[], $22::bigint[], $23::text[], $24::bigint[])
        WITH ORDINALITY AS x(msg, user_id, conv_type, peer, uid, rank)
      JOIN ins USING (uid)
  ),
  c AS (SELECT user_id, count(*)::bigint AS n FROM r GROUP BY user_id),
  h AS (
    INSERT INTO user_heads (user_id, head)
    SELECT user_id, n FROM c ORDER BY user_id COLLATE "C"
    ON CONFLICT (user_id) DO UPDATE SET head = user_heads.head + EXCLUDED.head
    RETURNING user_id, head
  ),
  s AS (
    SELECT r.msg, r.user_id, r.uid, r.conv_type, r.peer,
        h.head - c.n + row_number() OVER (PARTITION BY r.user_id ORDER BY r.rank) AS seq
      FROM r JOIN c USING (user_id) JOIN h USING (user_id)
  ),
  i AS (
    INSERT INTO inbox (user_id, seq, uid, conv_type, conv_peer)
    SELECT user_id, seq, uid, conv_type, peer FROM s
  )
  SELECT 'seq' AS k, msg, user_id, seq::text AS v FROM s
  UNION ALL
  SELECT 'new', NULL, NULL, uid::text FROM ins`;

/** One array per column of MESSAGE_COLUMNS; `m` is appended as one more row. */
function addMessageRow(columns: unknown[][], m: StoredMessage): void {
  const c = m.content;
  const row = [
    toDb(m.uid),
    toDb(m.messageId),
    m.from,
    m.fromDevice,
    m.to,
    m.conversation.type,
    m.conversation.target,
    String(m.serverTime),
    m.e2e,
    c.contentType,
    c.searchableContent,
    c.pushContent,
    c.data,
    c.mentionedType,
    textArrayLiteral(c.mentionedTargets),
    c.mediaType,
    c.msgLength,
    c.remoteMediaUrl,
    c.localMediaPath,
  ];
  for (let k = 0; k < row.length; k++) (columns[k] as unknown[]).push(row[k]);
}

/** A PostgreSQL text[] literal: every element quoted, `\` and `"` escaped (array input syntax). */
function textArrayLiteral(list: readonly string[]): string {
  if (list.length === 0) return '{}';
  return `{${list.map((s) => `"${s.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

const SELECT_MESSAGE = `uid::text AS uid, message_id::text AS message_id, from_user, from_device, to_user,
  conv_type::text AS conv_type, conv_target, server_time::text AS server_time, e2e,
  content_type::text AS content_type, searchable, push, data,
  mentioned_type::text AS mentioned_type, mentioned_targets, media_type::text AS media_type,
  msg_length::text AS msg_length, remote_media_url, local_media_path`;

interface MessageRow {
  uid: string;
  message_id: string;
  from_user: string;
  from_device: string;
  to_user: string;
  conv_type: string;
  conv_target: string;
  server_time: string;
  e2e: boolean;
  content_type: string;
  searchable: string;
  push: string;
  data: Uint8Array;
  mentioned_type: string;
  mentioned_targets: string[];
  media_type: string;
  msg_length: string;
  remote_media_url: string;
  local_media_path: string;
}

function rowToMessage(r: MessageRow): StoredMessage {
  return {
    uid: fromDb(r.uid),
    messageId: fromDb(r.message_id),
    from: r.from_user,
    fromDevice: r.from_device,
    to: r.to_user,
    conversation: { type: num(r.conv_type), target: r.conv_target },
    serverTime: num(r.server_time),
    e2e: r.e2e,
    content: {
      contentType: num(r.content_type),
      searchableContent: r.searchable,
      pushContent: r.push,
      // pg hands out Buffers (sometimes views of a shared pool): copy into a plain Uint8Array.
      data: new Uint8Array(r.data),
      mentionedType: num(r.mentioned_type),
      mentionedTargets: [...(r.mentioned_targets ?? [])],
      mediaType: num(r.media_type),
      msgLength: num(r.msg_length),
      remoteMediaUrl: r.remote_media_url,
      localMediaPath: r.local_media_path,
    },
  };
}

const idemKey = (m: StoredMessage) => `${m.from}\u0000${m.fromDevice}\u0000${m.messageId}`;

interface Pending {
  req: AppendRequest;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

/**
 * MessageStore over PostgreSQL (the cluster) through a SqlDriver (embedded mode has its own store,
 * ../sqlite/store.sqlite.ts). See migrations.ts for the schema.
 *
 * Group commit: append() queues; one flush at a time takes everything queued (up to maxBatch) and
 * commits it in ONE transaction, then resolves each append (durable before resolve). A batch is
 * equivalent to its appends run one after another in queue order:
 *   1. messages rows are inserted sorted by idempotency key, ON CONFLICT DO NOTHING: the rows not
 *      inserted are resends (of a committed message, or of an earlier one in the same batch);
 *   2. the head of every inbox user of the new messages is bumped by its count in ONE upsert, the
 *      users locked in sorted order — any two transactions lock shared users in the same order, so
 *      they cannot deadlock, and the one that locks first numbers first in EVERY shared inbox;
 *   3. seqs are handed out in queue order; inbox rows are written. A resend's ack reads the
 *      sender's seq back from the sender's inbox row (messages.sender_seq is no longer written:
 *      an UPDATE of every new message row doubled its writes and left dead tuples to vacuum).
 * If a batch fails on some append's data (SQLSTATE 22/23), each of its appends is retried in a
 * transaction of its own, so one bad append fails alone; any other failure (database down) fails
 * the whole batch. Deadlocks and serialization failures (not expected, given the lock order) rerun.
 */
export class SqlMessageStore implements MessageStore {
  readonly driver: SqlDriver;
  private readonly maxBatch: number;
  private readonly retries: number;
  private readonly onBatch: SqlMessageStoreOptions['onBatch'];
  private readonly queue: Pending[] = [];
  private flushing = false;
  private closed = false;

  private constructor(driver: SqlDriver, opts: SqlMessageStoreOptions) {
    this.driver = driver;
    this.maxBatch = Math.max(1, opts.maxBatch ?? 256);
    this.retries = opts.retries ?? 3;
    this.onBatch = opts.onBatch;
  }

  /** Applies pending migrations, then returns the store. */
  static async open(driver: SqlDriver, opts: SqlMessageStoreOptions = {}): Promise<SqlMessageStore> {
    await migrate(driver);
    return new SqlMessageStore(driver, opts);
  }

  append(req: AppendRequest): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('message store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // Let appends issued in the same tick join the first batch.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        const started = performance.now();
        try {
          const results = await this.withRetry(() => appendBatch(this.driver, batch));
          this.onBatch?.({ size: batch.length, seconds: (performance.now() - started) / 1000, ok: true });
          for (const [i, p] of batch.entries()) p.resolve(results[i] as AppendResult);
        } catch (batchErr) {
          this.onBatch?.({ size: batch.length, seconds: (performance.now() - started) / 1000, ok: false });
          if (batch.length === 1 || !blamesOneAppend(batchErr)) {
            // A lone append, or a failure of the database itself (down, timeout): all fail as one.
            for (const p of batch) p.reject(asClientError(batchErr));
            continue;
          }
          for (const p of batch) {
            try {
              const [r] = await this.withRetry(() => appendBatch(this.driver, [p]));
              p.resolve(r as AppendResult);
            } catch (e) {
              p.reject(asClientError(e));
            }
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Every read goes through here, so a value the database refuses is the client's error. */
  private query<R>(text: string, params?: unknown[]): Promise<{ rows: R[] }> {
    return this.driver.query<R>(text, params).catch((e: unknown) => {
      throw asClientError(e);
    });
  }

  private async withRetry<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const state = sqlState(e);
        if (attempt >= this.retries || state === undefined || !RETRYABLE_SQLSTATES.has(state)) throw e;
      }
    }
  }

  async pull(userId: string, since: number, limit: number): Promise<PullPage> {
    const { rows } = await this.query<{ seq: string; uid: string }>(
      `SELECT seq::text AS seq, uid::text AS uid FROM inbox
        WHERE user_id = $1 AND seq > $2 ORDER BY inbox.seq LIMIT $3`,
      [userId, String(Math.max(0, since)), limit],
    );
    const entries = await this.entries(rows);
    // Read after the entries, so head >= every seq returned.
    const head = await this.head(userId);
    const last = entries.length > 0 ? (entries[entries.length - 1] as InboxEntry).seq : Math.max(0, since);
    return { entries, head, hasMore: last < head };
  }

  async history(
    userId: string,
    conversation: Conversation,
    beforeUid: bigint,
    limit: number,
  ): Promise<InboxEntry[]> {
    const params: unknown[] = [userId, conversation.type, conversation.target, limit];
    const before = beforeUid === 0n ? '' : 'AND uid < $5';
    if (beforeUid !== 0n) params.push(toDb(beforeUid));
    const { rows } = await this.query<{ seq: string; uid: string }>(
      `SELECT seq::text AS seq, uid::text AS uid FROM inbox
        WHERE user_id = $1 AND conv_type = $2 AND conv_peer = $3 ${before}
        ORDER BY inbox.uid DESC LIMIT $4`,
      params,
    );
    return this.entries(rows);
  }

  async head(userId: string): Promise<number> {
    const { rows } = await this.query<{ head: string }>(
      'SELECT head::text AS head FROM user_heads WHERE user_id = $1',
      [userId],
    );
    return rows.length > 0 ? num((rows[0] as { head: string }).head) : 0;
  }

  async heads(userIds: string[]): Promise<Map<string, number>> {
    const out = new Map(userIds.map((u) => [u, 0]));
    if (userIds.length === 0) return out;
    const { rows } = await this.query<{ user_id: string; head: string }>(
      'SELECT user_id, head::text AS head FROM user_heads WHERE user_id = ANY($1::text[])',
      [userIds],
    );
    for (const r of rows) out.set(r.user_id, num(r.head));
    return out;
  }

  async get(uid: bigint): Promise<StoredMessage | null> {
    const { rows } = await this.query<MessageRow>(`SELECT ${SELECT_MESSAGE} FROM messages WHERE uid = $1`, [
      toDb(uid),
    ]);
    return rows.length > 0 ? rowToMessage(rows[0] as MessageRow) : null;
  }

  /** protocol.md §6 Recall; see wipedContent() in ../inbox.ts for what is emptied. */
  async wipe(uid: bigint): Promise<boolean> {
    const { rows } = await this.query(
      `UPDATE messages SET content_type = $2, searchable = '', push = '', data = '\\x'::bytea,
          mentioned_type = 0, mentioned_targets = '{}', media_type = 0, msg_length = 0,
          remote_media_url = '', local_media_path = ''
        WHERE uid = $1 AND content_type <> $2 RETURNING uid::text`,
      [toDb(uid), ContentType.RECALL],
    );
    return rows.length > 0;
  }

  /** Stops accepting appends, waits for queued ones to commit, then closes the driver. Safe to repeat. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await new Promise((r) => setTimeout(r, 1));
    await this.driver.close();
  }

  /** Inbox rows → entries, the messages fetched by uid in one query. */
  private async entries(rows: { seq: string; uid: string }[]): Promise<InboxEntry[]> {
    if (rows.length === 0) return [];
    const { rows: msgs } = await this.query<MessageRow>(
      `SELECT ${SELECT_MESSAGE} FROM messages WHERE uid = ANY($1::bigint[])`,
      [rows.map((r) => r.uid)],
    );
    const byUid = new Map(msgs.map((m) => [m.uid, m]));
    return rows.map((r) => {
      const m = byUid.get(r.uid);
      if (!m) throw new Error(`inbox row refers to missing message ${r.uid}`);
      return { seq: num(r.seq), message: rowToMessage(m) };
    });
  }
}

/** One group commit (one statement, APPEND_BATCH); results in the order of `batch`. */
async function appendBatch(db: SqlDriver, batch: Pending[]): Promise<AppendResult[]> {
  const reqs = batch.map((p) => p.req);
  // 1. Message rows in idempotency-key order (two batches that resend each other's keys then wait
  //    on each other in one order). Array.prototype.sort is stable: the first of equal keys in
  //    queue order is the one inserted.
  const keys = reqs.map((r) => idemKey(r.message));
  const order = reqs.map((_, i) => i).sort((a, b) => cmp(keys[a] as string, keys[b] as string));
  const columns: unknown[][] = MESSAGE_COLUMNS.map(() => []);
  for (const i of order) addMessageRow(columns, msg(reqs, i));
  // 2. Inbox rows of every message, in queue order; the statement keeps those of the new ones.
  const ib = {
    msg: [] as number[],
    user: [] as string[],
    type: [] as number[],
    peer: [] as string[],
    uid: [] as string[],
  };
  reqs.forEach((r, i) => {
    const uid = toDb(r.message.uid);
    for (const u of sortedUsers(r.inboxUsers)) {
      const conv = conversationFor(r.message, u);
      ib.msg.push(i);
      ib.user.push(u);
      ib.type.push(conv.type);
      ib.peer.push(conv.target);
      ib.uid.push(uid);
    }
  });
  const { rows } = await db.query<{ k: string; msg: number | null; user_id: string | null; v: string }>(
    APPEND_BATCH,
    [...columns, ib.msg, ib.user, ib.type, ib.peer, ib.uid],
    'im_append_batch',
  );
  const insertedUids = new Set<bigint>();
  const seqsOf: (Map<string, number> | null)[] = reqs.map(() => null);
  for (const row of rows) {
    if (row.k === 'new') {
      insertedUids.add(fromDb(row.v));
      continue;
    }
    const i = Number(row.msg);
    let seqs = seqsOf[i];
    if (!seqs) {
      seqs = new Map();
      seqsOf[i] = seqs;
    }
    seqs.set(row.user_id as string, num(row.v));
  }
  const fresh = reqs.map((r) => insertedUids.has(r.message.uid));
  reqs.forEach((_, i) => {
    if (fresh[i] && !seqsOf[i]) seqsOf[i] = new Map(); // a new message with no inbox user
    if (!fresh[i]) seqsOf[i] = null;
  });
  // Resends: the original from this batch, else from the database.
  const firstInBatch = new Map<string, number>();
  reqs.forEach((r, i) => {
    if (fresh[i] && r.message.messageId !== 0n) firstInBatch.set(idemKey(r.message), i);
  });
  const missing = reqs.filter((r, i) => !fresh[i] && !firstInBatch.has(idemKey(r.message)));
  const originals = new Map<string, { message: StoredMessage; senderSeq: number }>();
  if (missing.length > 0) {
    // The sender's seq is the sender's own inbox row of the original: its conversation as the
    // sender sees it is (conv_type, conv_target) (inbox.ts conversationFor), so the history index
    // finds it; no inbox row (the sender is not an inbox user) is seq 0.
    const { rows } = await db.query<MessageRow & { sender_seq: string }>(
      `SELECT ${SELECT_MESSAGE},
          COALESCE((SELECT i.seq FROM inbox i
            WHERE i.user_id = messages.from_user AND i.conv_type = messages.conv_type
              AND i.conv_peer = messages.conv_target AND i.uid = messages.uid), 0)::text AS sender_seq
        FROM messages
        WHERE message_id <> 0 AND (from_user, from_device, message_id) IN
          (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]))`,
      [
        missing.map((r) => r.message.from),
        missing.map((r) => r.message.fromDevice),
        missing.map((r) => toDb(r.message.messageId)),
      ],
    );
    for (const row of rows) {
      const m = rowToMessage(row);
      originals.set(idemKey(m), { message: m, senderSeq: num(row.sender_seq) });
    }
  }

  return reqs.map((r, i) => {
    const seqs = seqsOf[i];
    if (seqs) return { uid: r.message.uid, serverTime: r.message.serverTime, seqs, duplicate: false };
    const key = idemKey(r.message);
    const j = firstInBatch.get(key);
    if (j !== undefined) {
      const orig = reqs[j] as AppendRequest;
      const seq = (seqsOf[j] as Map<string, number>).get(orig.message.from) ?? 0;
      return {
        uid: orig.message.uid,
        serverTime: orig.message.serverTime,
        seqs: new Map([[orig.message.from, seq]]),
        duplicate: true,
      };
    }
    const orig = originals.get(key);
    if (!orig) throw new Error(`message ${r.message.uid} conflicted but its original is not found`);
    return {
      uid: orig.message.uid,
      serverTime: orig.message.serverTime,
      seqs: new Map([[orig.message.from, orig.senderSeq]]),
      duplicate: true,
    };
  });
}

/**
 * A data exception (SQLSTATE class 22) comes from a value the client sent that PostgreSQL cannot
 * hold — e.g. a NUL character in a text field, which protobuf allows — so it is BAD_REQUEST
 * (protocol.md §3), not INTERNAL. Anything else passes through unchanged.
 */
function asClientError(err: unknown): unknown {
  const state = sqlState(err);
  if (state === undefined || !state.startsWith('22')) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new ImError(Status.BAD_REQUEST, `a field holds a value that cannot be stored: ${detail}`, {
    cause: err,
  });
}

/** Data (22xxx) and integrity (23xxx) errors come from some append's values: worth retrying one by one. */
function blamesOneAppend(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

function msg(reqs: AppendRequest[], i: number): StoredMessage {
  return (reqs[i] as AppendRequest).message;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
