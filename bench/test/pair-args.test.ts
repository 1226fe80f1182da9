import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/args.js';
import { applyEnv, parseClusterBenchArgs, parsePeersBenchArgs, parseRoots } from '../src/pair-args.js';

const REPO = '/repo';

describe('parseClusterBenchArgs', () => {
  it('defaults to this checkout, 200 pairs, 2 generator processes and the issue rates', () => {
    const o = parseClusterBenchArgs([], {}, REPO, '/cwd');
    expect(o.roots).toEqual([{ label: 'this', dir: REPO }]);
    expect(o.rates).toEqual([500, 1000, 3000, 6000]);
    expect([o.pairs, o.workers, o.bodyBytes, o.attach]).toEqual([200, 2, 64, undefined]);
  });

  it('reads rates, workers and roots', () => {
    const o = parseClusterBenchArgs(
      ['--rate', '1k,2.5k', '--workers=4', '--root', 'before=../old,after=.'],
      {},
      REPO,
      '/work/new',
    );
    expect(o.rates).toEqual([1000, 2500]);
    expect(o.workers).toBe(4);
    expect(o.roots).toEqual([
      { label: 'before', dir: '/work/old' },
      { label: 'after', dir: '/work/new' },
    ]);
  });

  it('needs a secret to attach, and refuses --root with --attach', () => {
    expect(() => parseClusterBenchArgs(['--attach', '7100'], {}, REPO, '/')).toThrow(/secret/);
    expect(parseClusterBenchArgs(['--attach', '7100'], { IM_JWT_SECRET: 's' }, REPO, '/').attach).toBe(7100);
    expect(() =>
      parseClusterBenchArgs(['--attach', '7100', '--root', 'x=/a', '--secret', 's'], {}, REPO, '/'),
    ).toThrow(/exclude/);
    expect(() => parseClusterBenchArgs(['--attach', '65500', '--secret', 's'], {}, REPO, '/')).toThrow(
      /65535/,
    );
  });

  it('refuses bad values and unknown flags by name', () => {
    expect(() => parseClusterBenchArgs(['--pairs', '0'], {}, REPO, '/')).toThrow(
      /--pairs must be at least 1/,
    );
    expect(() => parseClusterBenchArgs(['--body-bytes', '8'], {}, REPO, '/')).toThrow(/at least 12/);
    expect(() => parseClusterBenchArgs(['--rate', 'fast'], {}, REPO, '/')).toThrow(/--rate must be a number/);
    expect(() => parseClusterBenchArgs(['--servers', 'x'], {}, REPO, '/')).toThrow(
      /unknown option --servers/,
    );
  });
});

describe('applyEnv (--env)', () => {
  const roots = [
    { label: 'a', dir: '/x' },
    { label: 'b', dir: '/x' },
  ];
  it('sets a setting for every checkout, or for the labelled one', () => {
    expect(applyEnv(roots, 'LOG_LEVEL=debug,b:IM_GRPC_LINGER_MS=4').map((r) => r.env)).toEqual([
      { LOG_LEVEL: 'debug' },
      { LOG_LEVEL: 'debug', IM_GRPC_LINGER_MS: '4' },
    ]);
  });
  it('refuses an unknown label and a malformed item', () => {
    expect(() => applyEnv(roots, 'c:X=1')).toThrow(/no --root labelled "c"/);
    expect(() => applyEnv(roots, 'lower=1')).toThrow(UsageError);
  });
});

describe('parseRoots', () => {
  it('labels a bare directory by its last segment and refuses duplicate labels', () => {
    expect(parseRoots('/tmp/im-old', '/')).toEqual([{ label: 'im-old', dir: '/tmp/im-old' }]);
    expect(() => parseRoots('a=/x,a=/y', '/')).toThrow(/own label/);
    expect(() => parseRoots('a=', '/')).toThrow(/names no directory/);
    expect(() => parseRoots('a b=/x', '/')).toThrow(UsageError);
  });
});

describe('parsePeersBenchArgs', () => {
  it('runs all three servers at 2k, 5k and 10k by default', () => {
    const o = parsePeersBenchArgs([]);
    expect(o.servers).toEqual(['embedded', 'aedes', 'mosquitto']);
    expect(o.rates).toEqual([2000, 5000, 10000]);
  });
  it('takes a subset of servers and refuses others', () => {
    expect(parsePeersBenchArgs(['--servers', 'mosquitto,aedes']).servers).toEqual(['mosquitto', 'aedes']);
    expect(() => parsePeersBenchArgs(['--servers', 'emqx'])).toThrow(
      /not one of embedded, memory, aedes, mosquitto/,
    );
    expect(parsePeersBenchArgs(['--servers', 'memory,embedded']).servers).toEqual(['memory', 'embedded']);
    expect(() => parsePeersBenchArgs(['--root', 'x=/y'])).toThrow(/unknown option --root/);
  });
});
