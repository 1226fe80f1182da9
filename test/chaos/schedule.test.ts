/** The chaos run's seeded plan and its arguments (scripts/chaos/schedule.ts, args.ts). */
import { describe, expect, it } from 'vitest';
import { ArgsError, DEFAULT_ARGS, parseArgs } from '../../scripts/chaos/args.js';
import { seeded } from '../../scripts/chaos/random.js';
import { ALL_EDGES, faultPlan, faultTargets, type PlannedFault } from '../../scripts/chaos/schedule.js';

const take = (seed: number, n: number): PlannedFault[] => {
  const plan = faultPlan(seeded(seed), faultTargets(['edge-1', 'edge-2']));
  return Array.from({ length: n }, () => plan.next().value as PlannedFault);
};

describe('chaos fault plan', () => {
  it('is the same for the same seed, and differs for another', () => {
    expect(take(7, 30)).toEqual(take(7, 30));
    expect(take(7, 30)).not.toEqual(take(8, 30));
  });

  it('crashes every component in the first round; later rounds take the other kinds in turn', () => {
    const targets = faultTargets(['edge-1', 'edge-2']);
    const rounds = take(5, targets.length * 3);
    const first = rounds.slice(0, targets.length);
    expect(first[0]?.kind).toBe('rolling-restart');
    // Backends and services before the (slow to restart) single edges.
    expect(
      first
        .slice(1, 7)
        .map((f) => f.target)
        .sort(),
    ).toEqual(['kafka', 'message', 'postgres', 'presence', 'redis', 'storage']);
    expect(first.filter((f) => f.target !== ALL_EDGES).map((f) => f.kind)).toEqual(
      Array(targets.length - 1).fill('kill'),
    );
    const kindsOf = (name: string) => rounds.filter((f) => f.target === name).map((f) => f.kind);
    expect(kindsOf('edge-1')).toEqual(['kill', 'pause', 'restart']);
    expect(kindsOf('redis')).toEqual(['kill', 'pause', 'kill']);
  });

  it('hits every component once per round, with a kind it supports', () => {
    const targets = faultTargets(['edge-1', 'edge-2']);
    const round = take(3, targets.length);
    expect(round.map((f) => f.target).sort()).toEqual(targets.map((t) => t.name).sort());
    for (const f of round) {
      expect(targets.find((t) => t.name === f.target)?.kinds).toContain(f.kind);
      if (f.kind === 'kill' || f.kind === 'pause') expect(f.holdMs).toBeGreaterThanOrEqual(500);
      else expect(f.holdMs).toBe(0);
    }
    expect(round.find((f) => f.target === ALL_EDGES)?.kind).toBe('rolling-restart');
    expect(['redis', 'kafka', 'postgres'].map((t) => round.find((f) => f.target === t)?.kind)).not.toContain(
      'restart',
    );
  });
});

describe('chaos arguments', () => {
  it('defaults, and each option in both spellings', () => {
    expect(parseArgs([])).toEqual(DEFAULT_ARGS);
    expect(parseArgs(['--minutes', '10', '--seed=42', '--edges', '2'])).toMatchObject({
      minutes: 10,
      seed: 42,
      edges: 2,
    });
  });

  it('a bad value or an unknown option is an error with the reason', () => {
    expect(() => parseArgs(['--edges', '1'])).toThrow(ArgsError);
    expect(() => parseArgs(['--edges', '1'])).toThrow(/--edges must be an integer in \[2, 20\], got "1"/);
    expect(() => parseArgs(['--seed', '1.5'])).toThrow(/integer/);
    expect(() => parseArgs(['--minutes'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--speed', '3'])).toThrow(/unknown option "--speed"/);
  });
});
