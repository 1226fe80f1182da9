import { ContentType } from '@im/protocol';
import type {
  AppendRequest,
  AppendResult,
  Conversation,
  InboxEntry,
  MessageStore,
  PullPage,
  StoredMessage,
} from '../ports.js';
import { cloneMessage, conversationFor, PageBudget, sortedUsers, wipedContent } from './inbox.js';

interface Inbox {
  /** seq i+1 is at index i: seqs are gap-free from 1. */
  uids: bigint[];
  /** Conversation key → uids of that conversation in this inbox, ascending. */
  byConversation: Map<string, { uid: bigint; seq: number }[]>;
}

const convKey = (c: Conversation) => `${c.type}:${c.target}`;
const idemKey = (m: StoredMessage) => `${m.from}\u0000${m.fromDevice}\u0000${m.messageId}`;

/**
 * MessageStore in plain maps: unit tests and the speed upper bound of the SQL store. Every call
 * completes synchronously inside one microtask, so appends are atomic and totally ordered.
 * Nothing survives the process.
 */
export class MemoryMessageStore implements MessageStore {
  private readonly messages = new Map<bigint, { message: StoredMessage; senderSeq: number }>();
  private readonly idempotency = new Map<string, bigint>();
  private readonly inboxes = new Map<string, Inbox>();

  async append(req: AppendRequest): Promise<AppendResult> {
    const m = req.message;
    if (m.messageId !== 0n) {
      const uid = this.idempotency.get(idemKey(m));
      if (uid !== undefined) {
        const original = this.messages.get(uid);
        if (original) {
          return {
            uid: original.message.uid,
            serverTime: original.message.serverTime,
            seqs: new Map([[original.message.from, original.senderSeq]]),
            duplicate: true,
          };
        }
      }
    }
    if (this.messages.has(m.uid)) throw new Error(`duplicate message uid ${m.uid}`);
    const stored = cloneMessage(m);
    const seqs = new Map<string, number>();
    for (const userId of sortedUsers(req.inboxUsers)) {
      const inbox = this.inbox(userId);
      inbox.uids.push(stored.uid);
      const seq = inbox.uids.length;
      seqs.set(userId, seq);
      const key = convKey(conversationFor(stored, userId));
      let list = inbox.byConversation.get(key);
      if (!list) {
        list = [];
        inbox.byConversation.set(key, list);
      }
      insertByUid(list, { uid: stored.uid, seq });
    }
    this.messages.set(stored.uid, { message: stored, senderSeq: seqs.get(stored.from) ?? 0 });
    if (m.messageId !== 0n) this.idempotency.set(idemKey(m), stored.uid);
    return { uid: stored.uid, serverTime: stored.serverTime, seqs, duplicate: false };
  }

  async pull(userId: string, since: number, limit: number, maxBytes?: number): Promise<PullPage> {
    const uids = this.inboxes.get(userId)?.uids ?? [];
    const from = Math.max(0, since);
    const budget = new PageBudget(maxBytes);
    const entries: InboxEntry[] = [];
    for (let i = from; i < uids.length && entries.length < limit; i++) {
      const e = this.entry(i + 1, uids[i] as bigint);
      entries.push(e);
      if (!budget.add(e.message)) break;
    }
    return { entries, head: uids.length, hasMore: from + entries.length < uids.length };
  }

  async history(
    userId: string,
    conversation: Conversation,
    beforeUid: bigint,
    limit: number,
    maxBytes?: number,
  ): Promise<InboxEntry[]> {
    const list = this.inboxes.get(userId)?.byConversation.get(convKey(conversation)) ?? [];
    let end = list.length;
    if (beforeUid !== 0n) {
      // first index with uid >= beforeUid
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((list[mid] as { uid: bigint }).uid < beforeUid) lo = mid + 1;
        else hi = mid;
      }
      end = lo;
    }
    const out: InboxEntry[] = [];
    const budget = new PageBudget(maxBytes);
    for (let i = end - 1; i >= 0 && out.length < limit; i--) {
      const e = list[i] as { uid: bigint; seq: number };
      const entry = this.entry(e.seq, e.uid);
      out.push(entry);
      if (!budget.add(entry.message)) break;
    }
    return out;
  }

  async head(userId: string): Promise<number> {
    return this.inboxes.get(userId)?.uids.length ?? 0;
  }

  async heads(userIds: string[]): Promise<Map<string, number>> {
    return new Map(userIds.map((u) => [u, this.inboxes.get(u)?.uids.length ?? 0]));
  }

  async get(uid: bigint): Promise<StoredMessage | null> {
    const row = this.messages.get(uid);
    return row ? cloneMessage(row.message) : null;
  }

  async wipe(uid: bigint): Promise<boolean> {
    const row = this.messages.get(uid);
    if (!row || row.message.content.contentType === ContentType.RECALL) return false;
    row.message.content = wipedContent();
    return true;
  }

  async close(): Promise<void> {}

  private inbox(userId: string): Inbox {
    let inbox = this.inboxes.get(userId);
    if (!inbox) {
      inbox = { uids: [], byConversation: new Map() };
      this.inboxes.set(userId, inbox);
    }
    return inbox;
  }

  private entry(seq: number, uid: bigint): InboxEntry {
    const row = this.messages.get(uid);
    if (!row) throw new Error(`inbox refers to missing message ${uid}`);
    return { seq, message: cloneMessage(row.message) };
  }
}

/** Keeps `list` ascending by uid; uids almost always arrive in order, so this is usually a push. */
function insertByUid(list: { uid: bigint; seq: number }[], e: { uid: bigint; seq: number }): void {
  let i = list.length;
  while (i > 0 && (list[i - 1] as { uid: bigint }).uid > e.uid) i--;
  list.splice(i, 0, e);
}
