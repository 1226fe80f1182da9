import { createHmac } from 'node:crypto';
import { ImError, Status } from '@im/protocol';
import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { claimChecks, Hs256Verifier, signDevToken, tokenFailureReason } from '../src/auth.js';
import { ConfigError, MIN_HS256_SECRET_BYTES } from '../src/config.js';

const SECRET = 'test-secret-0123456789-0123456789';
const key = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);

async function rejection(p: Promise<unknown>): Promise<ImError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ImError);
  expect((e as ImError).status).toBe(Status.UNAUTHORIZED);
  return e as ImError;
}

describe('Hs256Verifier', () => {
  const verifier = new Hs256Verifier(SECRET);

  it('accepts a dev token for its user, and says when it expires (protocol.md §6 Session)', async () => {
    const token = await signDevToken(SECRET, 'alice', 60);
    const { exp } = decodeJwt(token);
    await expect(verifier.verify(token, 'alice')).resolves.toEqual({ expiresAt: (exp as number) * 1000 });
  });

  it('refuses a token whose sub is another user', async () => {
    const e = await rejection(verifier.verify(await signDevToken(SECRET, 'alice', 60), 'bob'));
    expect(e.message).toMatch(/subject/);
  });

  it('refuses a token signed with another secret', async () => {
    await rejection(verifier.verify(await signDevToken('other-secret', 'alice', 60), 'alice'));
  });

  it('refuses an expired token, tolerating 30 s of clock skew', async () => {
    const at = (exp: number) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('alice')
        .setExpirationTime(exp)
        .sign(key);
    const exp = now() - 20;
    await expect(verifier.verify(await at(exp), 'alice')).resolves.toEqual({ expiresAt: exp * 1000 });
    const e = await rejection(verifier.verify(await at(now() - 40), 'alice'));
    expect(e.message).toBe('token expired');
  });

  it('refuses a token not valid yet beyond the skew', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setNotBefore(now() + 120)
      .setExpirationTime(now() + 600)
      .sign(key);
    await rejection(verifier.verify(token, 'alice'));
  });

  it('requires exp', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(key);
    await rejection(verifier.verify(token, 'alice'));
  });

  it('refuses other algorithms and garbage, without echoing the token', async () => {
    const hs512 = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('alice')
      .setExpirationTime(now() + 60)
      .sign(new TextEncoder().encode(SECRET.repeat(4)));
    await rejection(new Hs256Verifier(SECRET.repeat(4)).verify(hs512, 'alice'));
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      `{"sub":"alice","exp":${now() + 60}}`,
    ).toString('base64url')}.`;
    await rejection(verifier.verify(unsigned, 'alice'));
    const garbage = 'not-a-jwt-SENSITIVE';
    const e = await rejection(verifier.verify(garbage, 'alice'));
    expect(e.message).not.toContain('SENSITIVE');
    await rejection(verifier.verify('', 'alice'));
  });

  it('needs a secret', () => {
    expect(() => new Hs256Verifier('')).toThrow();
  });

  it('refuses to start with a secret shorter than 32 bytes (docs/security.md, Defaults)', () => {
    expect(MIN_HS256_SECRET_BYTES).toBe(32);
    expect(() => new Hs256Verifier('x'.repeat(31))).toThrow(ConfigError);
    expect(() => new Hs256Verifier('x'.repeat(31))).toThrow(
      /IM_JWT_SECRET is 31 bytes; HS256 needs at least 32/,
    );
    // Bytes, not characters: 16 two-byte characters are enough.
    expect(() => new Hs256Verifier('é'.repeat(16))).not.toThrow();
    expect(() => new Hs256Verifier('x'.repeat(32))).not.toThrow();
  });
});

describe('HS256 verified with node:crypto gives the verdict jose gives (auth.hs256.ts)', () => {
  const opts = { issuer: 'https://issuer.example', audience: 'im' };
  const ours = new Hs256Verifier(SECRET, opts);
  /** jose's verdict for the same token: the reason auth.ts would give. */
  const jose = async (token: string, userId: string): Promise<string> => {
    try {
      const { payload } = await jwtVerify(token, key, claimChecks(userId, opts, ['HS256']));
      return `ok ${payload.exp}`;
    } catch (e) {
      return tokenFailureReason(e);
    }
  };
  const mine = async (token: string, userId: string): Promise<string> =>
    ours.verify(token, userId).then(
      (v) => `ok ${v.expiresAt / 1000}`,
      (e: unknown) => (e as ImError).message,
    );
  const sign = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256' }) =>
    new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key);
  const good = { sub: 'alice', iss: opts.issuer, aud: 'im', exp: now() + 60 };
  /** Signed by hand: jose will not sign a header it would not accept. */
  const hmacToken = (header: object, claims: object) => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${b64(header)}.${b64(claims)}`;
    return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
  };

  it('on valid tokens and on every claim that fails', async () => {
    const cases: [string, string][] = [
      ['valid', await sign(good)],
      ['audience in a list', await sign({ ...good, aud: ['x', 'im'] })],
      ['other subject', await sign({ ...good, sub: 'bob' })],
      ['no sub', await sign({ ...good, sub: undefined })],
      ['no exp', await sign({ ...good, exp: undefined })],
      ['exp a string', await sign({ ...good, exp: 'soon' })],
      ['expired past the skew', await sign({ ...good, exp: now() - 40 })],
      ['expired within the skew', await sign({ ...good, exp: now() - 20 })],
      ['nbf in the future', await sign({ ...good, nbf: now() + 120 })],
      ['nbf within the skew', await sign({ ...good, nbf: now() + 20 })],
      ['iat a string', await sign({ ...good, iat: 'x' })],
      ['other issuer', await sign({ ...good, iss: 'https://evil.example' })],
      ['other audience', await sign({ ...good, aud: 'other' })],
      ['no audience', await sign({ ...good, aud: undefined })],
      ['crit header', hmacToken({ alg: 'HS256', crit: ['exp'], exp: 1 }, good)],
    ];
    for (const [what, token] of cases) {
      expect(await mine(token, 'alice'), what).toBe(await jose(token, 'alice'));
    }
  });

  it('on tampered, foreign and malformed tokens', async () => {
    const token = await sign(good);
    const [h, p, s] = token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...good, sub: 'mallory' })).toString('base64url');
    const cases: [string, string][] = [
      ['payload swapped', `${h}.${forged}.${s}`],
      ['signature cut', `${h}.${p}.${s.slice(0, -2)}`],
      ['signature empty', `${h}.${p}.`],
      ['alg none', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`],
      ['two segments', `${h}.${p}`],
      ['not base64url', `${h}.${p}!.${s}`],
      ['payload not JSON', `${h}.${Buffer.from('nope').toString('base64url')}.${s}`],
    ];
    for (const [what, t] of cases) {
      const reason = await mine(t, 'mallory');
      expect(reason, what).not.toMatch(/^ok/);
      expect(reason, what).toBe(await jose(t, 'mallory'));
    }
  });
});
