/**
 * The admin app in-process (fastify inject) with fake dependencies: what the embedded end-to-end
 * test (test/e2e/admin-api.test.ts) cannot reach — switched-off routes, backend failures, readiness,
 * metrics — and the mapping of service errors to HTTP.
 */
import { MemoryChatroomDirectory, MemoryChatroomRegistry, MemoryGroupDirectory, type Route } from '@im/core';
import { ImError, Status } from '@im/protocol';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { bearerCheck } from '../src/auth.js';
import { chatroomAdmin } from '../src/chatrooms.js';
import { type AdminDeps, createAdminApp } from '../src/index.js';

const SECRET = 's3cret';
const auth = { authorization: `Bearer ${SECRET}` };

function deps(over: Partial<AdminDeps> = {}): AdminDeps {
  const registry = new MemoryChatroomRegistry({ ttlMs: 60_000 });
  return {
    secret: SECRET,
    presence: {
      devices: async (): Promise<Route[]> => [],
      kick: async () => false,
      publicKey: async () => null,
    },
    groups: new MemoryGroupDirectory(),
    chatrooms: chatroomAdmin(new MemoryChatroomDirectory(), registry),
    ...over,
  };
}

describe('admin app', () => {
  it('server public key: 404 with a hint when the server has none, the PEM when it has', async () => {
    const none = await createAdminApp(deps());
    const res = await none.app.inject({ method: 'GET', url: '/v1/server/public-key', headers: auth });
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toMatch(/IM_RSA_PRIVATE_KEY/);
    const some = await createAdminApp(deps({ serverPublicKey: () => 'PEM' }));
    const ok = await some.app.inject({ method: 'GET', url: '/v1/server/public-key', headers: auth });
    expect(ok.json()).toEqual({ publicKey: 'PEM' });
  });

  it('POST /v1/tokens does not exist when development tokens are off, and is absent from the document', async () => {
    const { app } = await createAdminApp(deps({ issueToken: null }));
    const res = await app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: auth,
      payload: { userId: 'u' },
    });
    expect(res.statusCode).toBe(404);
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.paths['/v1/tokens']).toBeUndefined();
    expect(doc.paths['/v1/groups']).toBeDefined();
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
  });

  it('issues tokens through the injected signer with the default and a given ttl', async () => {
    const calls: [string, number][] = [];
    const { app } = await createAdminApp(
      deps({
        issueToken: async (u, ttl) => {
          calls.push([u, ttl]);
          return `tok-${u}`;
        },
      }),
    );
    const a = await app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: auth,
      payload: { userId: 'ann' },
    });
    expect(a.json()).toMatchObject({ userId: 'ann', token: 'tok-ann' });
    await app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: auth,
      payload: { userId: 'bo', ttlSeconds: 60 },
    });
    expect(calls).toEqual([
      ['ann', 24 * 3600],
      ['bo', 60],
    ]);
  });

  it('maps service errors: UNAVAILABLE → 503 with the reason; anything else → 500 without details', async () => {
    const down = await createAdminApp(
      deps({
        presence: {
          devices: async () => {
            throw new ImError(Status.UNAVAILABLE, 'presence service unreachable');
          },
          kick: async () => {
            throw new Error('secret internals');
          },
          publicKey: async () => null,
        },
      }),
    );
    const a = await down.app.inject({ method: 'GET', url: '/v1/users/u/devices', headers: auth });
    expect(a.statusCode).toBe(503);
    expect(a.json().message).toBe('presence service unreachable');
    const b = await down.app.inject({ method: 'DELETE', url: '/v1/users/u/devices/d', headers: auth });
    expect(b.statusCode).toBe(500);
    expect(b.body).not.toContain('secret internals');
  });

  it('kick answers 204 when presence kicked the device', async () => {
    const kicked: string[] = [];
    const { app } = await createAdminApp(
      deps({
        presence: {
          devices: async () => [],
          kick: async (u, d) => {
            kicked.push(`${u}/${d}`);
            return true;
          },
          publicKey: async () => null,
        },
      }),
    );
    const res = await app.inject({ method: 'DELETE', url: '/v1/users/ann/devices/phone', headers: auth });
    expect(res.statusCode).toBe(204);
    expect(kicked).toEqual(['ann/phone']);
  });

  it('/readyz follows the readiness probe and answers 503 once draining', async () => {
    let up = true;
    const admin = await createAdminApp(deps({ ready: async () => up }));
    expect((await admin.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    up = false;
    const down = await admin.app.inject({ method: 'GET', url: '/readyz' });
    expect([down.statusCode, down.body]).toEqual([503, 'backends unreachable\n']);
    up = true;
    admin.setDraining();
    const draining = await admin.app.inject({ method: 'GET', url: '/readyz' });
    expect([draining.statusCode, draining.body]).toEqual([503, 'draining\n']);
  });

  it('/metrics serves the registry without the bearer when one is given', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'admin' });
    const { app } = await createAdminApp(deps({ metrics: registry }));
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const without = await createAdminApp(deps());
    expect((await without.app.inject({ method: 'GET', url: '/metrics', headers: auth })).statusCode).toBe(
      404,
    );
  });

  it('deleting a chatroom drops who was in it', async () => {
    const directory = new MemoryChatroomDirectory();
    const registry = new MemoryChatroomRegistry({ ttlMs: 60_000 });
    const { app } = await createAdminApp(deps({ chatrooms: chatroomAdmin(directory, registry) }));
    await app.inject({ method: 'POST', url: '/v1/chatrooms', headers: auth, payload: { chatroomId: 'r' } });
    await registry.join('r', { userId: 'u', deviceId: 'd', nodeId: 'n', epoch: 1 });
    expect((await app.inject({ method: 'GET', url: '/v1/chatrooms/r', headers: auth })).json().members).toBe(
      1,
    );
    expect((await app.inject({ method: 'DELETE', url: '/v1/chatrooms/r', headers: auth })).statusCode).toBe(
      204,
    );
    expect(await registry.nodes('r')).toEqual([]);
  });
});

describe('bearerCheck', () => {
  it('accepts exactly the secret, case-insensitive scheme; refuses an empty secret at start', () => {
    const ok = bearerCheck('abc');
    expect(ok('Bearer abc')).toBe(true);
    expect(ok('bearer abc')).toBe(true);
    expect(ok('Bearer abcd')).toBe(false);
    expect(ok('Bearer ab')).toBe(false);
    expect(ok('Basic abc')).toBe(false);
    expect(ok(undefined)).toBe(false);
    expect(() => bearerCheck('')).toThrow(/secret/);
  });
});
