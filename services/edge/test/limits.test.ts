/** The limit primitives with a fake clock (protocol.md §6 Limits and abuse). Over TCP: test/e2e/limits.test.ts. */
import { TokenBucket } from '@im/core';
import { type Frame, type ImError, Status } from '@im/protocol';
import { describe, expect, it } from 'vitest';
import { ClosingError } from '../src/errors.js';
import { addressKey, IpGuard } from '../src/limits/ip-guard.js';
import { ABUSE_QUIET_MS, RateGuard } from '../src/limits/rate-guard.js';

const frame = (bodyLength = 0): Frame => ({
  version: 1,
  seq: 1,
  command: 3,
  flag: 0,
  status: 0,
  body: new Uint8Array(bodyLength),
});

describe('TokenBucket', () => {
  it('allows the burst, then the rate; waitMs says when', () => {
    const b = new TokenBucket(10, 3, 0);
    expect([b.take(1, 0), b.take(1, 0), b.take(1, 0), b.take(1, 0)]).toEqual([true, true, true, false]);
    expect(b.waitMs(1, 0)).toBe(100);
    expect(b.take(1, 99)).toBe(false);
    expect(b.take(1, 100)).toBe(true);
  });

  it('a cost above the burst needs a full bucket and leaves a debt', () => {
    const b = new TokenBucket(100, 100, 0);
    expect(b.take(250, 0)).toBe(true);
    expect(b.take(1, 1000)).toBe(false); // 150 of debt repaid, 50 still owed... plus one token needed
    expect(b.take(1, 1600)).toBe(true);
  });
});

describe('RateGuard', () => {
  it('refuses on arrival with TOO_MANY_REQUESTS and retryAfterMs, and refused frames cost nothing', () => {
    let now = 0;
    const g = new RateGuard(
      {
        rateFramesPerSecond: 2,
        rateFramesBurst: 2,
        rateBytesPerSecond: 0,
        rateBytesBurst: 0,
        abuseCloseMs: 10_000,
      },
      () => now,
    );
    const fs = [frame(), frame(), frame()];
    for (const f of fs) g.admit(f);
    expect(g.verdict(fs[0] as Frame)).toBeNull();
    expect(g.verdict(fs[1] as Frame)).toBeNull();
    const v = g.verdict(fs[2] as Frame) as ImError;
    expect([v.status, v.retryAfterMs, v instanceof ClosingError]).toEqual([
      Status.TOO_MANY_REQUESTS,
      500,
      false,
    ]);
    now = 500;
    const next = frame();
    g.admit(next);
    expect(g.verdict(next)).toBeNull();
  });

  it('bytes: a frame the frame bucket allows but the byte bucket does not gives its frame token back', () => {
    let now = 0;
    const g = new RateGuard(
      {
        rateFramesPerSecond: 1,
        rateFramesBurst: 1,
        rateBytesPerSecond: 100,
        rateBytesBurst: 100,
        abuseCloseMs: 10_000,
      },
      () => now,
    );
    const big = frame(200);
    g.admit(big); // full bucket: allowed, debt of 112 bytes
    now = 1000;
    const small = frame(10);
    g.admit(small);
    expect((g.verdict(small) as ImError).message).toMatch(/bytes\/s/);
    now = 1400; // 28 bytes of credit again; the frame token was refunded, so no frame wait either
    const again = frame(10);
    g.admit(again);
    expect(g.verdict(again)).toBeNull();
  });

  it('persistent abuse: still refused abuseCloseMs after the first refusal → a closing error; a quiet second resets', () => {
    let now = 0;
    const g = new RateGuard(
      {
        rateFramesPerSecond: 1,
        rateFramesBurst: 1,
        rateBytesPerSecond: 0,
        rateBytesBurst: 0,
        abuseCloseMs: 3000,
      },
      () => now,
    );
    const verdicts: (ImError | null)[] = [];
    for (now = 0; now <= 3500; now += 100) {
      const f = frame();
      g.admit(f);
      verdicts.push(g.verdict(f));
    }
    // First refusal at 100 ms; the first closing verdict is the first refusal 3000 ms later.
    const firstClosing = verdicts.findIndex((v) => v instanceof ClosingError);
    expect(firstClosing * 100).toBe(3100);

    const h = new RateGuard(
      {
        rateFramesPerSecond: 1,
        rateFramesBurst: 1,
        rateBytesPerSecond: 0,
        rateBytesBurst: 0,
        abuseCloseMs: 3000,
      },
      () => now,
    );
    now = 0;
    for (const t of [0, 100, 100 + ABUSE_QUIET_MS + 1, 2000, 3500]) {
      now = t;
      h.admit(frame());
    }
    now = 3600;
    const f = frame();
    h.admit(f);
    // The episode restarted at 1101 (a quiet second after 100): 3600 - 1101 < 3000.
    expect(h.verdict(f)).not.toBeInstanceOf(ClosingError);
    expect(h.verdict(f)?.status).toBe(Status.TOO_MANY_REQUESTS);
  });

  it('a gzip body is charged again at its inflated size; a refusal then gives back its arrival cost', () => {
    let now = 0;
    const g = new RateGuard(
      {
        rateFramesPerSecond: 100,
        rateFramesBurst: 100,
        rateBytesPerSecond: 1000,
        rateBytesBurst: 1000,
        abuseCloseMs: 10_000,
      },
      () => now,
    );
    const zipped = frame(20); // 32 bytes on the wire
    g.admit(zipped);
    expect(g.verdict(zipped)).toBeNull();
    expect(g.inflated(zipped, 900)).toBeNull(); // 1000 - 32 - 900 = 68 left
    const bomb = frame(20);
    g.admit(bomb); // 36 left
    const refused = g.inflated(bomb, 900) as ImError;
    expect([refused.status, refused instanceof ClosingError]).toEqual([Status.TOO_MANY_REQUESTS, false]);
    expect(refused.message).toMatch(/bytes\/s \(900 bytes once inflated\)/);
    expect(refused.retryAfterMs).toBe(832); // (900 - 68) bytes at 1000 bytes/s
    // The refused frame's 32 wire bytes came back: 68 left, so a 56-byte frame passes.
    const next = frame(56);
    g.admit(next);
    expect(g.verdict(next)).toBeNull();
    now = 1000;
    const later = frame(20);
    g.admit(later);
    expect(g.inflated(later, 900)).toBeNull();
  });

  it('0 means no limit', () => {
    const g = new RateGuard({
      rateFramesPerSecond: 0,
      rateFramesBurst: 0,
      rateBytesPerSecond: 0,
      rateBytesBurst: 0,
      abuseCloseMs: 1,
    });
    for (let i = 0; i < 1000; i++) {
      const f = frame(1000);
      g.admit(f);
      expect(g.verdict(f)).toBeNull();
    }
  });
});

describe('IpGuard', () => {
  it('counts open connections per address and releases them', () => {
    const g = new IpGuard({ maxConnectionsPerIp: 2, acceptPerIpPerSecond: 0, acceptPerIpBurst: 0 });
    const a = g.admit('10.0.0.1');
    const b = g.admit('10.0.0.1');
    expect([a.ok, b.ok, g.admit('10.0.0.1').ok, g.admit('10.0.0.2').ok]).toEqual([true, true, false, true]);
    g.release(a.key);
    expect(g.admit('::ffff:10.0.0.1').ok).toBe(true); // IPv4-mapped is the same address
  });

  it('limits the accept rate and forgets idle addresses', () => {
    let now = 0;
    const g = new IpGuard(
      { maxConnectionsPerIp: 0, acceptPerIpPerSecond: 1, acceptPerIpBurst: 2 },
      () => now,
    );
    const v = [g.admit('1.1.1.1'), g.admit('1.1.1.1'), g.admit('1.1.1.1')];
    expect(v.map((x) => x.ok)).toEqual([true, true, false]);
    for (const x of v) if (x.ok) g.release(x.key);
    now = 60_000;
    g.admit('2.2.2.2');
    expect(g.size).toBe(1); // 1.1.1.1 had no connection and a full bucket: swept
  });

  it('groups IPv6 by /64', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:db8:1:2:bbbb::2'));
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'));
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('127.0.0.1')).toBe('127.0.0.1');
  });
});
