import { describe, expect, it } from 'vitest';
import { KickMemo } from '../src/kick-memo.js';
import { Registry } from '../src/registry.js';

const conn = (userId: string, deviceId: string, epoch: number) => ({ userId, deviceId, epoch });

describe('Registry (one live connection per (user, device), protocol.md §6 Session)', () => {
  it('keeps the devices of one user side by side', () => {
    const r = new Registry<ReturnType<typeof conn>>();
    const a = conn('u', 'phone', 1);
    const b = conn('u', 'laptop', 2);
    expect(r.add(a)).toBeNull();
    expect(r.add(b)).toBeNull();
    expect(r.devices('u')).toEqual([a, b]);
    expect(r.size).toBe(2);
  });

  it('a newer epoch replaces the older connection and returns it', () => {
    const r = new Registry<ReturnType<typeof conn>>();
    const old = conn('u', 'phone', 1);
    const fresh = conn('u', 'phone', 2);
    r.add(old);
    expect(r.add(fresh)).toBe(old);
    expect(r.get('u', 'phone')).toBe(fresh);
  });

  it('a login that finishes after a newer one loses: it is returned, the slot is unchanged', () => {
    const r = new Registry<ReturnType<typeof conn>>();
    const newer = conn('u', 'phone', 5);
    const late = conn('u', 'phone', 4);
    r.add(newer);
    expect(r.add(late)).toBe(late);
    expect(r.get('u', 'phone')).toBe(newer);
  });

  it('remove only removes the registered connection itself', () => {
    const r = new Registry<ReturnType<typeof conn>>();
    const old = conn('u', 'phone', 1);
    const fresh = conn('u', 'phone', 2);
    r.add(old);
    r.add(fresh);
    expect(r.remove(old)).toBe(false);
    expect(r.get('u', 'phone')).toBe(fresh);
    expect(r.remove(fresh)).toBe(true);
    expect(r.devices('u')).toEqual([]);
    expect(r.size).toBe(0);
  });
});

describe('KickMemo', () => {
  it('remembers a kick for one epoch, once', () => {
    const m = new KickMemo();
    m.remember('u', 'd', 3);
    expect(m.take('u', 'd', 2)).toBe(false);
    expect(m.take('u', 'd', 3)).toBe(true);
    expect(m.take('u', 'd', 3)).toBe(false);
  });

  it('forgets old kicks', () => {
    const m = new KickMemo();
    m.remember('u', 'd', 1, 0);
    m.remember('u', 'd', 2, 120_000);
    expect(m.take('u', 'd', 1)).toBe(false);
    expect(m.take('u', 'd', 2)).toBe(true);
  });
});
