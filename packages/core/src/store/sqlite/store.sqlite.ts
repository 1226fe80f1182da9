import { ContentType, ImError } from '@im/protocol';
import type {
  AppendRequest,
  AppendResult,
  Conversation,
  InboxEntry,
  MessageStore,
  PullPage,
  StoredMessage,
} from '../../ports.js';
import { conversationFor, PageBudget, sortedUsers } from '../inbox.js';
import { SqliteDatabase, type SqliteOpenOptions, type SqlValue } from './database.js';
import { environmentFailure, storeError } from './errors.js';

export interface SqliteStoreOptions extends SqliteOpenOptions {
  /** Told after each group-commit transaction (metrics: batch size and commit time). */
  onBatch?: (info: { size: number; seconds: number; ok: boolean }) => void;
  /**
   * How long the first append of a group commit waits for others (config sqlite.commitLingerMs);
   * default 0: the commit runs at the end of the event-loop turn. A full batch never waits.
   */
  commitLingerMs?: number;
}

/** A group commit this large is not held back by the linger (it runs at the end of the turn). */
const FULL_BATCH = 256;

/** uint64 ↔ signed 64-bit column, by two's complement (messageId is any uint64 a client sends). */
const toDb = (v: bigint): bigint => BigInt.asIntN(64, v);
const fromDb = (v: bigint): bigint => BigInt.asUintN(64, v);
/**
 * Inbox heads kept in memory at most; past it the cache starts over (a miss is one index seek), so
 * a server that has seen millions of users does not hold them all.
 */
const MAX_CACHED_HEADS = 50_000;
/** Uids stay below 2^63 by their layout (uid.ts), so a history bound at or above it bounds nothing. */
const UID_LIMIT = 2n ** 63n;

const MESSAGE_COLUMNS = `uid, message_id, from_user, from_device, to_user, conv_type, conv_target,
  server_time, e2e, content_type, searchable, push, data, mentioned_type, mentioned_targets,
  media_type, msg_length, remote_media_url, local_media_path`;
const INSERT = `INSERT INTO messages (${MESSAGE_COLUMNS})
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
/** A resend (same idempotency key) inserts nothing: `changes` is 0. */
const INSERT_KEYED = `${INSERT}
  ON CONFLICT (from_user, from_device, message_id) WHERE message_id <> 0 DO NOTHING`;
const M_COLUMNS = MESSAGE_COLUMNS.replace(/(\w+)/g, 'm.$1');

const SQL = {
  maxSeq: 'SELECT max(seq) AS head FROM inbox WHERE user_id = ?',
  inbox: 'INSERT INTO inbox (user_id, seq, uid, conv_type, conv_peer) VALUES (?, ?, ?, ?, ?)',
  inbox2:
    'INSERT INTO inbox (user_id, seq, uid, conv_type, conv_peer) VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)',
  // The sender's seq is the sender's own inbox row of the original (inbox.ts conversationFor: its
  // conversation as the sender sees it is (conv_type, conv_target)); none (not an inbox user) is 0.
  original: `SELECT ${M_COLUMNS}, coalesce((SELECT i.seq FROM inbox i
      WHERE i.user_id = m.from_user AND i.conv_type = m.conv_type AND i.conv_peer = m.conv_target
        AND i.uid = m.uid), 0) AS seq
    FROM messages m WHERE m.from_user = ? AND m.from_device = ? AND m.message_id = ? AND m.message_id <> 0`,
  pull: `SELECT i.seq AS seq, ${M_COLUMNS} FROM inbox i JOIN messages m ON m.uid = i.uid
    WHERE i.user_id = ? AND i.seq > ? ORDER BY i.seq LIMIT ?`,
  history: `SELECT i.seq AS seq, ${M_COLUMNS} FROM inbox i JOIN messages m ON m.uid = i.uid
    WHERE i.user_id = ? AND i.conv_type = ? AND i.conv_peer = ? AND i.uid <= ? ORDER BY i.uid DESC LIMIT ?`,
  get: `SELECT ${M_COLUMNS}, 0 AS seq FROM messages m WHERE m.uid = ?`,
  // protocol.md §6 Recall; ../inbox.ts wipedContent() says what is emptied.
  wipe: `UPDATE messages SET content_type = ?, searchable = '', push = '', data = x'',
      mentioned_type = 0, mentioned_targets = '[]', media_type = 0, msg_length = 0,
      remote_media_url = '', local_media_path = ''
    WHERE uid = ? AND content_type <> ?`,
} as const;

interface Row {
  seq: bigint;
  uid: bigint;
  message_id: bigint;
  from_user: string;
  from_device: string;
  to_user: string;
  conv_type: bigint;
  conv_target: string;
  server_time: bigint;
  e2e: bigint;
  content_type: bigint;
  searchable: string;
  push: string;
  data: Uint8Array;
  mentioned_type: bigint;
  mentioned_targets: string;
  media_type: bigint;
  msg_length: bigint;
  remote_media_url: string;
  local_media_path: string;
}

function messageValues(m: StoredMessage): SqlValue[] {
  const c = m.content;
  return [
    toDb(m.uid),
    toDb(m.messageId),
    m.from,
    m.fromDevice,
    m.to,
    m.conversation.type,
    m.conversation.target,
    m.serverTime,
    m.e2e ? 1 : 0,
    c.contentType,
    c.searchableContent,
    c.pushContent,
    c.data,
    c.mentionedType,
    c.mentionedTargets.length === 0 ? '[]' : JSON.stringify(c.mentionedTargets),
    c.mediaType,
    c.msgLength,
    c.remoteMediaUrl,
    c.localMediaPath,
  ];
}

function rowToMessage(r: Row): StoredMessage {
  return {
    uid: fromDb(r.uid),
    messageId: fromDb(r.message_id),
    from: r.from_user,
    fromDevice: r.from_device,
    to: r.to_user,
    conversation: { type: Number(r.conv_type), target: r.conv_target },
    serverTime: Number(r.server_time),
    e2e: r.e2e !== 0n,
    content: {
      contentType: Number(r.content_type),
      searchableContent: r.searchable,
      pushContent: r.push,
      data: r.data,
      mentionedType: Number(r.mentioned_type),
      mentionedTargets: JSON.parse(r.mentioned_targets) as string[],
      mediaType: Number(r.media_type),
      msgLength: Number(r.msg_length),
      remoteMediaUrl: r.remote_media_url,
      localMediaPath: r.local_media_path,
    },
  };
}

const toEntry = (r: Row): InboxEntry => ({ seq: Number(r.seq), message: rowToMessage(r) });

/**
 * Rows one at a time, up to the first that takes the page past maxBytes (ports.ts MessageStore.pull):
 * the rows after it are never read into memory (the iterator is closed, which resets the statement).
 */
function readPage(rows: Iterable<unknown>, maxBytes?: number): InboxEntry[] {
  const budget = new PageBudget(maxBytes);
  const entries: InboxEntry[] = [];
  for (const row of rows) {
    const e = toEntry(row as Row);
    entries.push(e);
    if (!budget.add(e.message)) break;
  }
  return entries;
}

interface Pending {
  req: AppendRequest;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

type Outcome = { ok: true; result: AppendResult } | { ok: false; error: unknown };

/**
 * MessageStore on SQLite (node:sqlite), the embedded mode's store. Schema: schema.ts; durability and
 * locking: database.ts; figures and the choice of engine: docs/storage.md.
 *
 * Group commit: append() queues; the first append of a batch schedules one flush — at the end of
 * the event-loop turn (setImmediate, after the turn's I/O callbacks), or `commitLingerMs` later, or
 * at the end of the turn that fills a batch — which commits EVERY queued append in one
 * transaction, and resolves them once the WAL sync that follows it is done (durable before the
 * ack; one fdatasync off the event loop, shared by the commits made while it runs: database.ts).
 * Appends run in queue order, without savepoints; if one fails on its own data the batch is rolled
 * back and rerun with a savepoint per append, so that append alone is rejected; a failure of the database or its disk (full, I/O error) rolls the whole batch back and
 * rejects every append in it with UNAVAILABLE. Nothing else writes the file (exclusive lock), so
 * an inbox head read once (max(seq), which inside a transaction includes its own rows) stays right
 * in memory until a rollback, which drops the heads it touched.
 */
export class SqliteMessageStore implements MessageStore {
  readonly db: SqliteDatabase;
  private readonly onBatch: SqliteStoreOptions['onBatch'];
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly lingerMs: number;
  /** The linger's timer, while the queued appends wait for more (null: none, or at end of turn). */
  private lingerTimer: NodeJS.Timeout | null = null;
  /** user → max(seq) of the user's inbox as this connection sees it (a cache: any entry may go). */
  private readonly headCache = new Map<string, number>();

  constructor(db: SqliteDatabase, opts: Pick<SqliteStoreOptions, 'onBatch' | 'commitLingerMs'> = {}) {
    this.db = db;
    this.onBatch = opts.onBatch;
    this.lingerMs = opts.commitLingerMs ?? 0;
    for (const sql of [SQL.original, SQL.pull, SQL.history, SQL.get]) {
      db.statement(sql).setReadBigInts(true);
    }
  }

  /** Opens (or creates) the database and migrates it; throws StoreOpenError when it cannot. */
  static async open(opts: SqliteStoreOptions = {}): Promise<SqliteMessageStore> {
    return new SqliteMessageStore(SqliteDatabase.open(opts), opts);
  }

  append(req: AppendRequest): Promise<AppendResult> {
    if (this.db.isClosed) return Promise.reject(new Error('message store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        if (this.lingerMs > 0) this.lingerTimer = setTimeout(this.flushNow, this.lingerMs);
        else setImmediate(this.flushNow);
      } else if (this.lingerTimer && this.queue.length >= FULL_BATCH) {
        // Full: no reason to wait any longer; committed at the end of this turn.
        clearTimeout(this.lingerTimer);
        this.lingerTimer = null;
        setImmediate(this.flushNow);
      }
    });
  }

  private readonly flushNow = (): void => {
    this.lingerTimer = null;
    this.flush();
  };

  /** Commits everything queued as one transaction; see the class comment. */
  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const started = performance.now();
    let outcomes: Outcome[];
    try {
      outcomes = this.commit(batch);
    } catch (err) {
      // Heads moved by the rolled-back appends are re-read on next use.
      this.headCache.clear();
      this.onBatch?.({ size: batch.length, seconds: (performance.now() - started) / 1000, ok: false });
      for (const p of batch) p.reject(err);
      return;
    }
    this.onBatch?.({ size: batch.length, seconds: (performance.now() - started) / 1000, ok: true });
    // Durable before the ack: resolved once the WAL is synced past this commit (database.ts).
    this.db.durable().then(
      () => {
        for (let i = 0; i < batch.length; i++) {
          const p = batch[i] as Pending;
          const o = outcomes[i] as Outcome;
          if (o.ok) p.resolve(o.result);
          else p.reject(o.error);
        }
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }

  /**
   * The batch in one transaction. First without savepoints (two statements fewer per append): an
   * append failing on its own data is rare, and then the batch is rolled back and run again with
   * one savepoint per append, so that append alone fails. A failure of the database or its disk
   * (an ImError from storeError) fails the batch either way.
   */
  private commit(batch: readonly Pending[]): Outcome[] {
    try {
      return this.db.transaction(() => batch.map((p) => this.appendPlain(p.req)));
    } catch (err) {
      this.headCache.clear();
      if (err instanceof ImError) throw err;
    }
    return this.db.transaction(() => batch.map((p) => this.appendInSavepoint(p.req)));
  }

  private appendPlain(req: AppendRequest): Outcome {
    return { ok: true, result: this.appendOne(req, sortedUsers(req.inboxUsers)) };
  }

  /**
   * One append in a savepoint of the batch's transaction. Its own failure is returned (the batch
   * goes on); a failure of the database itself is thrown (the batch fails).
   */
  private appendInSavepoint(req: AppendRequest): Outcome {
    const users = sortedUsers(req.inboxUsers);
    this.db.statement('SAVEPOINT a').run();
    try {
      const result = this.appendOne(req, users);
      this.db.statement('RELEASE a').run();
      return { ok: true, result };
    } catch (err) {
      if (environmentFailure(err) !== undefined) throw err;
      this.db.exec('ROLLBACK TO a');
      this.db.exec('RELEASE a');
      for (const u of users) this.headCache.delete(u);
      return { ok: false, error: storeError(err) };
    }
  }

  private appendOne(req: AppendRequest, users: string[]): AppendResult {
    const m = req.message;
    const keyed = m.messageId !== 0n;
    const { changes } = this.db.statement(keyed ? INSERT_KEYED : INSERT).run(...messageValues(m));
    if (Number(changes) === 0) {
      const row = this.db.statement(SQL.original).get(m.from, m.fromDevice, toDb(m.messageId)) as Row;
      const original = rowToMessage(row);
      return {
        uid: original.uid,
        serverTime: original.serverTime,
        seqs: new Map([[original.from, Number(row.seq)]]),
        duplicate: true,
      };
    }
    const uid = toDb(m.uid);
    const seqs = new Map<string, number>();
    const rows: SqlValue[] = [];
    for (const u of users) {
      const seq = this.headOf(u) + 1;
      const conv = conversationFor(m, u);
      this.headCache.set(u, seq);
      seqs.set(u, seq);
      rows.push(u, seq, uid, conv.type, conv.target);
      // Two rows a statement: a one-to-one message's inbox rows in one call.
      if (rows.length === 10) {
        this.db.statement(SQL.inbox2).run(...rows);
        rows.length = 0;
      }
    }
    if (rows.length > 0) this.db.statement(SQL.inbox).run(...rows);
    return { uid: m.uid, serverTime: m.serverTime, seqs, duplicate: false };
  }

  private headOf(userId: string): number {
    let head = this.headCache.get(userId);
    if (head === undefined) {
      if (this.headCache.size >= MAX_CACHED_HEADS) this.headCache.clear();
      const row = this.db.statement(SQL.maxSeq).get(userId) as { head: number | null };
      head = row.head ?? 0;
      this.headCache.set(userId, head);
    }
    return head;
  }

  async pull(userId: string, since: number, limit: number, maxBytes?: number): Promise<PullPage> {
    return this.db.readDurable(() => {
      const from = Math.max(0, since);
      const entries = readPage(this.db.statement(SQL.pull).iterate(userId, from, limit), maxBytes);
      const head = this.headOf(userId);
      const last = entries.length > 0 ? (entries[entries.length - 1] as InboxEntry).seq : from;
      return { entries, head, hasMore: last < head };
    });
  }

  async history(
    userId: string,
    conversation: Conversation,
    beforeUid: bigint,
    limit: number,
    maxBytes?: number,
  ): Promise<InboxEntry[]> {
    const last = beforeUid === 0n || beforeUid >= UID_LIMIT ? UID_LIMIT - 1n : beforeUid - 1n;
    return this.db.readDurable(() =>
      readPage(
        this.db.statement(SQL.history).iterate(userId, conversation.type, conversation.target, last, limit),
        maxBytes,
      ),
    );
  }

  async head(userId: string): Promise<number> {
    return this.db.readDurable(() => this.headOf(userId));
  }

  async heads(userIds: string[]): Promise<Map<string, number>> {
    return this.db.readDurable(() => new Map(userIds.map((u) => [u, this.headOf(u)])));
  }

  async get(uid: bigint): Promise<StoredMessage | null> {
    return this.db.readDurable(() => {
      const row = this.db.statement(SQL.get).get(toDb(uid)) as Row | undefined;
      return row ? rowToMessage(row) : null;
    });
  }

  /** One UPDATE, resolved once durable. */
  async wipe(uid: bigint): Promise<boolean> {
    return this.db.write(() => {
      const { changes } = this.db.statement(SQL.wipe).run(ContentType.RECALL, toDb(uid), ContentType.RECALL);
      return Number(changes) > 0;
    });
  }

  /** Commits what is queued, then closes the database. Safe to repeat. */
  async close(): Promise<void> {
    if (this.db.isClosed) return;
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    this.flush();
    this.db.close();
  }
}
