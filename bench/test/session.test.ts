import { ForbiddenError, UnavailableError } from '@im/client';
import { Status } from '@im/protocol';
import { describe, expect, it } from 'vitest';
import { withRetries } from '../src/session.js';

describe('withRetries (bench logins)', () => {
  it('tries again after a retryable status and returns the first success', async () => {
    let calls = 0;
    const v = await withRetries(
      async () => {
        calls++;
        if (calls < 3) throw new UnavailableError(Status.UNAVAILABLE, { message: 'deadline' });
        return 'ok';
      },
      5,
      1,
    );
    expect(v).toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up after the last attempt, and at once on a status that is not retryable', async () => {
    let calls = 0;
    const unavailable = withRetries(
      async () => {
        calls++;
        throw new UnavailableError(Status.UNAVAILABLE);
      },
      3,
      1,
    );
    await expect(unavailable).rejects.toBeInstanceOf(UnavailableError);
    expect(calls).toBe(3);

    calls = 0;
    const forbidden = withRetries(
      async () => {
        calls++;
        throw new ForbiddenError(Status.FORBIDDEN);
      },
      3,
      1,
    );
    await expect(forbidden).rejects.toBeInstanceOf(ForbiddenError);
    expect(calls).toBe(1);
  });
});
