/**
 * The client half of the sync model (protocol.md §6 "Inbox and seq", "Guarantee"): the last
 * contiguous seq this device holds, messages that arrived past a gap (held until the gap is filled
 * by a pull), and recently seen messageUids (pushes may duplicate; clients drop duplicates by uid).
 * Pure bookkeeping — ImClient decides when to pull.
 */
import type { Message } from '@im/protocol/portable';

/** How many uids are remembered for duplicate detection of seq-less (transient, chatroom) messages. */
const DEFAULT_SEEN_CAPACITY = 10_000;

export class InboxTracker {
  /** Last contiguous seq held: every inbox message with seq ≤ lastSeq has been emitted (or was ours). */
  lastSeq: number;
  /** seq → message held past a gap; `null` marks a seq this device sent itself (known from its SendAck). */
  private readonly held = new Map<number, Message | null>();
  private readonly seen: RecentSet;

  constructor(lastSeq: number, seenCapacity = DEFAULT_SEEN_CAPACITY) {
    this.lastSeq = lastSeq;
    this.seen = new RecentSet(seenCapacity);
  }

  /** True while some held message sits past a missing seq. */
  get hasGap(): boolean {
    return this.held.size > 0;
  }

  /** Smallest held seq, or undefined when no gap is open. */
  get firstHeld(): number | undefined {
    let min: number | undefined;
    for (const seq of this.held.keys()) if (min === undefined || seq < min) min = seq;
    return min;
  }

  /**
   * Takes a pushed or pulled message; returns the messages that became deliverable, in seq order.
   * seq 0 (transient/chatroom, protocol.md §6) is delivered at once unless its uid was seen.
   */
  accept(m: Message): Message[] {
    if (m.messageUid !== 0n && this.seen.has(m.messageUid)) return [];
    if (m.seq === 0) {
      if (m.messageUid !== 0n) this.seen.add(m.messageUid);
      return [m];
    }
    if (m.seq <= this.lastSeq || this.held.has(m.seq)) return [];
    this.held.set(m.seq, m);
    return this.drain();
  }

  /** Records this device's own message from its SendAck: it fills its seq without being delivered. */
  acceptOwn(seq: number, messageUid: bigint): Message[] {
    if (messageUid !== 0n) this.seen.add(messageUid);
    if (seq === 0 || seq <= this.lastSeq) return [];
    this.held.set(seq, null);
    return this.drain();
  }

  /**
   * Gives up on the missing seqs below the first held message (the server, asked up to its head,
   * does not have them) and delivers what is held, in order. Returns them.
   */
  skipGap(): Message[] {
    const out: Message[] = [];
    for (let first = this.firstHeld; first !== undefined; first = this.firstHeld) {
      this.lastSeq = first - 1;
      out.push(...this.drain());
    }
    return out;
  }

  private drain(): Message[] {
    const out: Message[] = [];
    for (;;) {
      const next = this.lastSeq + 1;
      if (!this.held.has(next)) break;
      const m = this.held.get(next);
      this.held.delete(next);
      this.lastSeq = next;
      if (!m) continue;
      if (m.messageUid !== 0n) {
        if (this.seen.has(m.messageUid)) continue;
        this.seen.add(m.messageUid);
      }
      out.push(m);
    }
    return out;
  }
}

/** A set that forgets its oldest entries past `capacity`. */
class RecentSet {
  private readonly items = new Set<bigint>();
  constructor(private readonly capacity: number) {}

  has(v: bigint): boolean {
    return this.items.has(v);
  }

  add(v: bigint): void {
    this.items.add(v);
    if (this.items.size > this.capacity) {
      const oldest = this.items.values().next().value;
      if (oldest !== undefined) this.items.delete(oldest);
    }
  }
}
