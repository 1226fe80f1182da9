import type { Message } from '@im/protocol';
import { describe, expect, it } from 'vitest';
import { backoffDelay, InboxTracker } from '../src/index.js';
import { message } from './helpers/fake-server.js';

const m = (seq: number, uid = BigInt(1000 + seq)): Message =>
  message({ from: 'a', to: 'b', text: `m${seq}`, uid, seq });
const seqs = (ms: Message[]) => ms.map((x) => x.seq);

describe('InboxTracker', () => {
  it('delivers contiguous messages at once and holds those past a gap until it is filled', () => {
    const t = new InboxTracker(10);
    expect(seqs(t.accept(m(11)))).toEqual([11]);
    expect(seqs(t.accept(m(13)))).toEqual([]);
    expect(t.hasGap).toBe(true);
    expect(t.firstHeld).toBe(13);
    expect(seqs(t.accept(m(14)))).toEqual([]);
    expect(seqs(t.accept(m(12)))).toEqual([12, 13, 14]);
    expect(t.hasGap).toBe(false);
    expect(t.lastSeq).toBe(14);
  });

  it('drops duplicates by seq and by uid, including seq-0 messages', () => {
    const t = new InboxTracker(0);
    expect(seqs(t.accept(m(1)))).toEqual([1]);
    expect(t.accept(m(1))).toEqual([]);
    const transient = m(0, 77n);
    expect(t.accept(transient)).toHaveLength(1);
    expect(t.accept({ ...transient })).toHaveLength(0);
    // Same uid pushed twice while held past a gap: delivered once.
    t.accept(m(3));
    t.accept(m(3));
    expect(seqs(t.accept(m(2)))).toEqual([2, 3]);
  });

  it("fills a seq with the device's own acked message without delivering it", () => {
    const t = new InboxTracker(5);
    expect(t.acceptOwn(6, 9001n)).toEqual([]);
    expect(t.lastSeq).toBe(6);
    // Own message pulled back later: not delivered.
    expect(t.accept(m(6, 9001n))).toEqual([]);
    // Own ack past a gap: the gap closes when 7 arrives, 8 is skipped silently.
    t.acceptOwn(8, 9002n);
    expect(seqs(t.accept(m(7)))).toEqual([7]);
    expect(t.lastSeq).toBe(8);
  });

  it('skipGap releases everything held, in order, across several gaps', () => {
    const t = new InboxTracker(0);
    t.accept(m(5));
    t.accept(m(3));
    t.accept(m(9));
    expect(seqs(t.skipGap())).toEqual([3, 5, 9]);
    expect(t.lastSeq).toBe(9);
    expect(t.hasGap).toBe(false);
  });
});

describe('backoffDelay', () => {
  const opts = { minMs: 100, maxMs: 1000 };
  it('grows exponentially within [cap/2, cap] and stops at maxMs', () => {
    expect(backoffDelay(0, opts, () => 0)).toBe(50);
    expect(backoffDelay(0, opts, () => 1)).toBe(100);
    expect(backoffDelay(2, opts, () => 0)).toBe(200);
    expect(backoffDelay(2, opts, () => 1)).toBe(400);
    expect(backoffDelay(10, opts, () => 1)).toBe(1000);
    expect(backoffDelay(1000, opts, () => 0.5)).toBe(750);
  });
});
