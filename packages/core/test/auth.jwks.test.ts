/**
 * protocol.md §5 LoginRequest.token: HS256 with a shared secret, or RS256/ES256 through a JWKS URL
 * (served here on a loopback HTTP server) or file; exp/nbf with the configured clock skew; issuer
 * and audience when configured; no algorithm confusion.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImError, Status } from '@im/protocol';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthSettings, createTokenVerifier, JwksVerifier } from '../src/auth.jwks.js';
import { ConfigError } from '../src/config.js';

type Key = Awaited<ReturnType<typeof generateKeyPair>>;
let rs: Key;
let es: Key;
let stranger: Key;
let jwks: { keys: JWK[] };
let server: Server;
let url = '';
let fetches = 0;
let dir = '';

const now = () => Math.floor(Date.now() / 1000);

async function sign(
  key: Key,
  alg: string,
  kid: string,
  claims: { sub?: string; exp?: number; nbf?: number; iss?: string; aud?: string } = {},
): Promise<string> {
  let jwt = new SignJWT({}).setProtectedHeader({ alg, kid }).setIssuedAt();
  if (claims.sub !== undefined) jwt = jwt.setSubject(claims.sub);
  jwt = jwt.setExpirationTime(claims.exp ?? now() + 600);
  if (claims.nbf !== undefined) jwt = jwt.setNotBefore(claims.nbf);
  if (claims.iss) jwt = jwt.setIssuer(claims.iss);
  if (claims.aud) jwt = jwt.setAudience(claims.aud);
  return jwt.sign(key.privateKey);
}

async function rejects(p: Promise<unknown>, status: number, reason: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImError);
  expect((err as ImError).status).toBe(status);
  expect((err as ImError).message).toMatch(reason);
}

const base: AuthSettings = {
  jwtSecret: '',
  jwksUrl: '',
  jwksFile: '',
  jwtIssuer: '',
  jwtAudience: '',
  clockSkewSeconds: 5,
};

beforeAll(async () => {
  rs = await generateKeyPair('RS256');
  es = await generateKeyPair('ES256');
  stranger = await generateKeyPair('RS256');
  jwks = {
    keys: [
      { ...(await exportJWK(rs.publicKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' },
    ],
  };
  server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  dir = await mkdtemp(join(tmpdir(), 'im-jwks-'));
  await writeFile(join(dir, 'jwks.json'), JSON.stringify(jwks));
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('JWKS over HTTP (RS256 / ES256)', () => {
  it('accepts RS256 and ES256 tokens whose sub is the user, fetching the key set once', async () => {
    const v = createTokenVerifier({ ...base, jwksUrl: url });
    const exp = now() + 600;
    // The session ends with the token (protocol.md §6 Session): its exp comes back in ms.
    await expect(v.verify(await sign(rs, 'RS256', 'rs-1', { sub: 'alice', exp }), 'alice')).resolves.toEqual({
      expiresAt: exp * 1000,
    });
    await v.verify(await sign(es, 'ES256', 'es-1', { sub: 'alice' }), 'alice');
    expect(fetches).toBe(1);
  });

  it('refuses another subject, a key not in the set, and missing claims', async () => {
    const v = createTokenVerifier({ ...base, jwksUrl: url });
    await rejects(
      v.verify(await sign(rs, 'RS256', 'rs-1', { sub: 'bob' }), 'alice'),
      Status.UNAUTHORIZED,
      /subject/,
    );
    await rejects(
      v.verify(await sign(stranger, 'RS256', 'rs-1', { sub: 'alice' }), 'alice'),
      Status.UNAUTHORIZED,
      /signature/,
    );
    await rejects(
      v.verify(await sign(stranger, 'RS256', 'rs-9', { sub: 'alice' }), 'alice'),
      Status.UNAUTHORIZED,
      /key/,
    );
    await rejects(v.verify(await sign(rs, 'RS256', 'rs-1'), 'alice'), Status.UNAUTHORIZED, /sub/);
  });

  it('exp and nbf are checked with the configured skew', async () => {
    const v = createTokenVerifier({ ...base, jwksUrl: url, clockSkewSeconds: 5 });
    await v.verify(await sign(rs, 'RS256', 'rs-1', { sub: 'a', exp: now() - 3 }), 'a'); // within the skew
    await rejects(
      v.verify(await sign(rs, 'RS256', 'rs-1', { sub: 'a', exp: now() - 30 }), 'a'),
      Status.UNAUTHORIZED,
      /expired/,
    );
    await v.verify(await sign(rs, 'RS256', 'rs-1', { sub: 'a', nbf: now() + 3 }), 'a');
    await rejects(
      v.verify(await sign(rs, 'RS256', 'rs-1', { sub: 'a', nbf: now() + 60 }), 'a'),
      Status.UNAUTHORIZED,
      /not yet valid/,
    );
  });

  it('issuer and audience, when configured, are required', async () => {
    const v = createTokenVerifier({
      ...base,
      jwksUrl: url,
      jwtIssuer: 'https://auth.example',
      jwtAudience: 'im',
    });
    await v.verify(
      await sign(rs, 'RS256', 'rs-1', { sub: 'a', iss: 'https://auth.example', aud: 'im' }),
      'a',
    );
    await rejects(
      v.verify(await sign(rs, 'RS256', 'rs-1', { sub: 'a', iss: 'https://evil', aud: 'im' }), 'a'),
      Status.UNAUTHORIZED,
      /iss/,
    );
    await rejects(
      v.verify(await sign(rs, 'RS256', 'rs-1', { sub: 'a', iss: 'https://auth.example' }), 'a'),
      Status.UNAUTHORIZED,
      /aud/,
    );
  });

  it('an unreachable key set is UNAVAILABLE (a retry may succeed), not UNAUTHORIZED', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const v = JwksVerifier.fromUrl(`http://127.0.0.1:${port}/jwks.json`);
    await rejects(
      v.verify(await sign(rs, 'RS256', 'rs-1', { sub: 'a' }), 'a'),
      Status.UNAVAILABLE,
      /unreachable/,
    );
  });
});

describe('JWKS file, HS256, and both together', () => {
  it('a JWKS file works like the URL', async () => {
    const v = createTokenVerifier({ ...base, jwksFile: join(dir, 'jwks.json') });
    await v.verify(await sign(es, 'ES256', 'es-1', { sub: 'carol' }), 'carol');
    await rejects(
      v.verify(await sign(stranger, 'RS256', 'rs-1', { sub: 'carol' }), 'carol'),
      Status.UNAUTHORIZED,
      /signature/,
    );
  });

  it('with a secret and a key set, HS256 tokens are refused unless IM_JWT_HS256_WITH_JWKS', async () => {
    const secret = 'a-shared-secret-of-enough-length!!';
    const v = createTokenVerifier({ ...base, jwtSecret: secret, jwksUrl: url });
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('d')
      .setExpirationTime(now() + 60)
      .sign(new TextEncoder().encode(secret));
    await rejects(v.verify(hs, 'd'), Status.UNAUTHORIZED, /algorithm/);
    await v.verify(await sign(rs, 'RS256', 'rs-1', { sub: 'd' }), 'd');
    const off = createTokenVerifier({ ...base, jwtSecret: secret, jwksUrl: url, hs256WithJwks: false });
    await rejects(off.verify(hs, 'd'), Status.UNAUTHORIZED, /algorithm/);
  });

  it('with a secret, a key set and HS256 allowed, each token goes by its alg; other algs are refused', async () => {
    const secret = 'a-shared-secret-of-enough-length!!';
    const v = createTokenVerifier({ ...base, jwtSecret: secret, jwksUrl: url, hs256WithJwks: true });
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('d')
      .setExpirationTime(now() + 60)
      .sign(new TextEncoder().encode(secret));
    await v.verify(hs, 'd');
    await v.verify(await sign(rs, 'RS256', 'rs-1', { sub: 'd' }), 'd');
    const hs512 = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('d')
      .setExpirationTime(now() + 60)
      .sign(new TextEncoder().encode(secret.repeat(2)));
    await rejects(v.verify(hs512, 'd'), Status.UNAUTHORIZED, /algorithm/);
    await rejects(v.verify('not.a.jwt', 'd'), Status.UNAUTHORIZED, /malformed/);
  });

  it('algorithm confusion: an HS256 token keyed with the RSA public key is refused when only a JWKS is set', async () => {
    const v = createTokenVerifier({ ...base, jwksUrl: url });
    const pem = JSON.stringify(jwks.keys[0]);
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'rs-1' })
      .setSubject('a')
      .setExpirationTime(now() + 60)
      .sign(new TextEncoder().encode(pem));
    await rejects(v.verify(forged, 'a'), Status.UNAUTHORIZED, /algorithm/);
  });

  it('nothing configured, or both a URL and a file: ConfigError', () => {
    expect(() => createTokenVerifier(base)).toThrow(ConfigError);
    expect(() => createTokenVerifier({ ...base, jwksUrl: url, jwksFile: 'x' })).toThrow(ConfigError);
  });
});
