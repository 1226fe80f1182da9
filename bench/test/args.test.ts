import { describe, expect, it } from 'vitest';
import { parseCount, parseIdleArgs, parseLoadArgs, parseMix, parseTargets, UsageError } from '../src/args.js';

describe('parseLoadArgs', () => {
  it('reads targets, rates with k suffixes and the secret from the environment', () => {
    const o = parseLoadArgs(
      [
        '--target',
        '127.0.0.1:7100,127.0.0.1:7101',
        '--rate=1k,2.5k',
        '--connections',
        '300',
        '--duration',
        '1.5',
      ],
      { IM_JWT_SECRET: 's3cret' },
    );
    expect(o.targets).toEqual([
      { host: '127.0.0.1', port: 7100 },
      { host: '127.0.0.1', port: 7101 },
    ]);
    expect(o.rates).toEqual([1000, 2500]);
    expect(o.connections).toBe(300);
    expect(o.durationS).toBe(1.5);
    expect(o.secret).toBe('s3cret');
    expect(o.mix).toEqual({ kind: 'one-to-one' });
    expect(o.embedded).toBe(false);
  });

  it('needs a target or --embedded, and a secret for a target', () => {
    expect(() => parseLoadArgs([], {})).toThrow(UsageError);
    expect(() => parseLoadArgs(['--target', '127.0.0.1:7100'], {})).toThrow(/secret/);
    expect(parseLoadArgs(['--embedded'], {}).embedded).toBe(true);
    expect(() => parseLoadArgs(['--embedded', '--target', '127.0.0.1:1'], {})).toThrow(/exclude/);
  });

  it('refuses unknown options and flags without values', () => {
    expect(() => parseLoadArgs(['--embedded', '--rat', '5'], {})).toThrow(/unknown option --rat/);
    expect(() => parseLoadArgs(['--embedded', '--rate'], {})).toThrow(/--rate needs a value/);
    expect(() => parseLoadArgs(['--embedded', 'extra'], {})).toThrow(/unexpected argument/);
  });

  it('accepts group:K only with an admin URL and enough connections', () => {
    expect(() => parseLoadArgs(['--embedded', '--mix', 'group:5'], {})).toThrow(/--groups-admin/);
    expect(() =>
      parseLoadArgs(
        ['--embedded', '--mix', 'group:50', '--connections', '10', '--groups-admin', 'http://x'],
        {},
      ),
    ).toThrow(/connections >= 50/);
    const o = parseLoadArgs(
      ['--embedded', '--mix', 'group:5', '--groups-admin', 'http://127.0.0.1:7180'],
      {},
    );
    expect(o.mix).toEqual({ kind: 'group', size: 5 });
  });

  it('keeps the body large enough for the send timestamp', () => {
    expect(() => parseLoadArgs(['--embedded', '--body-bytes', '4'], {})).toThrow(/at least 8/);
  });
});

describe('parseIdleArgs', () => {
  it('starts its own server by default, with one client process per 5000 connections', () => {
    const o = parseIdleArgs([], {});
    expect(o.embedded).toBe(true);
    expect(o.connections).toBe(19_000);
    expect(o.workers).toBe(4);
  });

  it('needs the pid of an edge it did not start', () => {
    expect(() => parseIdleArgs(['--target', '127.0.0.1:7100', '--secret', 's'], {})).toThrow(/--pid/);
    const o = parseIdleArgs(['--target', '127.0.0.1:7100', '--secret', 's', '--pid', '42'], {});
    expect(o.pid).toBe(42);
    expect(o.embedded).toBe(false);
  });
});

describe('pieces', () => {
  it('parses counts, mixes and targets strictly', () => {
    expect(parseCount('rate', '30k')).toBe(30_000);
    expect(parseCount('rate', '1m')).toBe(1_000_000);
    expect(() => parseCount('rate', '1.5')).toThrow(/whole number/);
    expect(() => parseCount('rate', 'fast')).toThrow(/must be a number/);
    expect(parseMix('one-to-one')).toEqual({ kind: 'one-to-one' });
    expect(() => parseMix('group:1')).toThrow(/K >= 2/);
    expect(() => parseMix('broadcast')).toThrow(UsageError);
    expect(parseTargets('[::1]:7100')).toEqual([{ host: '[::1]', port: 7100 }]);
    expect(() => parseTargets('localhost')).toThrow(/host:port/);
    expect(() => parseTargets('h:70000')).toThrow(/bad port/);
  });
});

describe('parseIdleArgs --cluster', () => {
  it('targets 100,000 connections over edges and client processes that fit the file limit', () => {
    const o = parseIdleArgs(['--cluster'], {});
    expect(o.cluster).toBe(true);
    expect(o.embedded).toBe(false);
    expect(o.connections).toBe(100_000);
    expect(o.edges).toBe(6); // ceil(100,000 / 17,000)
    expect(o.workers).toBe(7); // ceil(100,000 / 15,000)
    expect(o.settleS).toBe(30);
    expect(parseIdleArgs([], {}).settleS).toBe(3);
  });

  it('starts its own edges, so it refuses a target or a server kind', () => {
    expect(() => parseIdleArgs(['--cluster', '--target', '127.0.0.1:1', '--pid', '1'], {})).toThrow(
      /--cluster starts its own edges/,
    );
    expect(() => parseIdleArgs(['--cluster', '--server', 'memory'], {})).toThrow(/--cluster/);
    expect(() => parseIdleArgs(['--edges', '3'], {})).toThrow(/--edges needs --cluster/);
  });
});
