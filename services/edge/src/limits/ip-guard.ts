/**
 * Per-address connection limits (protocol.md §6 Limits and abuse: per-IP connection limits; a
 * reconnect storm from one address is throttled): at most `maxConnectionsPerIp` open sockets and
 * `acceptPerIpPerSecond` new ones per second (burst `acceptPerIpBurst`) per address. A socket over
 * either limit is closed as it is accepted, before any TLS handshake or protocol work.
 *
 * IPv6 addresses are grouped by /64, the block one subscriber usually holds, so rotating through a
 * prefix does not multiply the allowance. The table forgets an address once it has no connection and
 * a full bucket, so it stays as small as the set of active addresses.
 */

import { isIPv6 } from 'node:net';
import { type Config, TokenBucket } from '@im/core';

type IpLimits = Pick<Config['edge'], 'maxConnectionsPerIp' | 'acceptPerIpPerSecond' | 'acceptPerIpBurst'>;

interface Entry {
  open: number;
  bucket: TokenBucket | null;
}

/** The table is swept of forgettable entries at most this often. */
const SWEEP_EVERY_MS = 10_000;

export type IpVerdict = { ok: true; key: string } | { ok: false; key: string; reason: string };

export class IpGuard {
  private readonly table = new Map<string, Entry>();
  private lastSweep: number;

  constructor(
    private readonly limits: IpLimits,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.lastSweep = clock();
  }

  /** Counts the connection if allowed; every ok verdict must be paired with one release(key). */
  admit(address: string | undefined): IpVerdict {
    const key = addressKey(address);
    const now = this.clock();
    this.sweep(now);
    let entry = this.table.get(key);
    if (!entry) {
      const { acceptPerIpPerSecond: rate, acceptPerIpBurst: burst } = this.limits;
      entry = { open: 0, bucket: rate > 0 ? new TokenBucket(rate, Math.max(1, burst), now) : null };
      this.table.set(key, entry);
    }
    const max = this.limits.maxConnectionsPerIp;
    if (max > 0 && entry.open >= max) {
      return { ok: false, key, reason: `${entry.open} connections from this address (limit ${max})` };
    }
    if (entry.bucket && !entry.bucket.take(1, now)) {
      return {
        ok: false,
        key,
        reason: `more than ${this.limits.acceptPerIpPerSecond} new connections/s from this address`,
      };
    }
    entry.open++;
    return { ok: true, key };
  }

  release(key: string): void {
    const entry = this.table.get(key);
    if (entry && entry.open > 0) entry.open--;
  }

  /** Open connections counted for an address (tests, metrics). */
  openFrom(address: string): number {
    return this.table.get(addressKey(address))?.open ?? 0;
  }

  get size(): number {
    return this.table.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [key, e] of this.table) {
      if (e.open === 0 && (!e.bucket || e.bucket.isFull(now))) this.table.delete(key);
    }
  }
}

/** IPv4 as is (also when IPv4-mapped), IPv6 by its /64 prefix. */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]?.split('::') ?? [''];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = Array(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...(tail === undefined ? [] : zeros), ...right].map((g) =>
    g.toLowerCase().replace(/^0+(?=.)/, ''),
  );
}
