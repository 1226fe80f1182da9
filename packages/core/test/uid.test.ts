import { describe, expect, it } from 'vitest';
import { SnowflakeUid, UID_EPOCH_MS, uidFromBytes, uidTime, uidToBytes, uidWorker } from '../src/uid.js';

const T0 = Date.UTC(2025, 5, 1);

describe('SnowflakeUid', () => {
  it('is strictly increasing', () => {
    const gen = new SnowflakeUid(3);
    let prev = -1n;
    for (let i = 0; i < 50_000; i++) {
      const uid = gen.next();
      expect(uid > prev).toBe(true);
      prev = uid;
    }
  });

  it('never collides across workers on the same ms', () => {
    const now = () => T0;
    const a = new SnowflakeUid(1, { now });
    const b = new SnowflakeUid(2, { now });
    const all = new Set<bigint>();
    for (let i = 0; i < 4000; i++) {
      all.add(a.next());
      all.add(b.next());
    }
    expect(all.size).toBe(8000);
    expect(uidWorker(a.next())).toBe(1);
    expect(uidWorker(b.next())).toBe(2);
  });

  it('orders by time across workers and reads the time back', () => {
    let t = T0;
    const now = () => t;
    const high = new SnowflakeUid(1023, { now });
    const low = new SnowflakeUid(0, { now });
    const early = high.next();
    t += 1;
    const late = low.next();
    expect(late > early).toBe(true);
    expect(uidTime(early)).toBe(T0);
    expect(uidTime(late)).toBe(T0 + 1);
    expect(uidTime(new SnowflakeUid(5, { now: () => UID_EPOCH_MS }).next())).toBe(UID_EPOCH_MS);
  });

  it('moves to the next ms when 4096 uids were taken in one', () => {
    let calls = 0;
    // The clock reads T0 for the first 4096 uids, then T0 + 1.
    const now = () => (calls++ < 4096 ? T0 : T0 + 1);
    const gen = new SnowflakeUid(9, { now });
    const uids = Array.from({ length: 4097 }, () => gen.next());
    expect(uidTime(uids[4095] as bigint)).toBe(T0);
    expect(uidTime(uids[4096] as bigint)).toBe(T0 + 1);
    expect((uids[4096] as bigint) & 0xfffn).toBe(0n);
    expect(new Set(uids).size).toBe(4097);
  });

  it('stays increasing when the clock goes back a little (waits) or a lot (keeps its last ms)', () => {
    let t = T0;
    const back: number[] = [];
    const gen = new SnowflakeUid(4, { now: () => t, onClockBackwards: (ms) => back.push(ms) });
    const a = gen.next();
    t = T0 - 3_600_000; // an hour back: no waiting, no repeat
    const started = performance.now();
    const b = gen.next();
    const c = gen.next();
    expect(performance.now() - started).toBeLessThan(50);
    expect(b > a && c > b).toBe(true);
    expect(back[0]).toBe(3_600_000);
    // A small step back is waited out until the clock passes the last ms.
    let calls = 0;
    const gen2 = new SnowflakeUid(4, { now: () => (calls++ === 1 ? T0 - 5 : T0 + (calls > 5 ? 1 : 0)) });
    const x = gen2.next();
    const y = gen2.next();
    expect(y > x).toBe(true);
  });

  it('refuses a worker id outside 0..1023', () => {
    expect(() => new SnowflakeUid(1024)).toThrow(RangeError);
    expect(() => new SnowflakeUid(-1)).toThrow(RangeError);
    expect(() => new SnowflakeUid(1.5)).toThrow(RangeError);
  });

  it('encodes a uid as 8 bytes big-endian', () => {
    const uid = 0x0102030405060708n;
    expect([...uidToBytes(uid)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(uidFromBytes(uidToBytes(uid))).toBe(uid);
  });
});
