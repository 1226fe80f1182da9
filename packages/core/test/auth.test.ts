import { ImError, Status } from '@im/protocol';
import { decodeJwt, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { Hs256Verifier, signDevToken } from '../src/auth.js';
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
