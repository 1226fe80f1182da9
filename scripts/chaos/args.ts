/**
 * `pnpm chaos [--minutes N] [--seed S] [--edges E] [--users U] [--rate R] [--notify-bound-ms B]`:
 * the run's knobs, checked (a bad value is an error with the reason, never a silent default).
 */
export interface ChaosArgs {
  /** How long traffic runs while faults are injected. */
  minutes: number;
  /** Seeds the traffic (who sends what to whom) and the fault plan. */
  seed: number;
  /** Edge nodes (at least 2, so a client always has another address). */
  edges: number;
  /** SDK clients, one user each. */
  users: number;
  /** Messages per second over all clients. */
  rate: number;
  /**
   * protocol.md §6 Guarantee: a device online at the ack that stays online is told (MPS or MN)
   * within this many ms of the fault's recovery; later, or never, is a violation.
   */
  notifyBoundMs: number;
}

export const DEFAULT_ARGS: ChaosArgs = {
  minutes: 1,
  seed: 1,
  edges: 3,
  users: 12,
  rate: 8,
  notifyBoundMs: 15_000,
};

const LIMITS: Record<keyof ChaosArgs, [min: number, max: number, integer: boolean]> = {
  minutes: [0.1, 24 * 60, false],
  seed: [0, 2 ** 32 - 1, true],
  edges: [2, 20, true],
  users: [3, 500, true],
  rate: [0.1, 1_000, false],
  notifyBoundMs: [100, 600_000, true],
};

const FLAGS: Record<string, keyof ChaosArgs> = {
  '--minutes': 'minutes',
  '--seed': 'seed',
  '--edges': 'edges',
  '--users': 'users',
  '--rate': 'rate',
  '--notify-bound-ms': 'notifyBoundMs',
};

export class ArgsError extends Error {}

export function parseArgs(argv: string[]): ChaosArgs {
  const out = { ...DEFAULT_ARGS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=')
      ? (arg.split(/=(.*)/s, 2) as [string, string])
      : [arg, undefined];
    const key = FLAGS[flag];
    if (!key)
      throw new ArgsError(`unknown option ${JSON.stringify(flag)} (known: ${Object.keys(FLAGS).join(', ')})`);
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new ArgsError(`${flag} needs a value`);
    const n = Number(raw);
    const [min, max, integer] = LIMITS[key];
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new ArgsError(
        `${flag} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(raw)}`,
      );
    }
    out[key] = n;
  }
  return out;
}
