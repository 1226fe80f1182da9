/**
 * The web chat demo's routes (routes/demo.ts) in-process with fake dependencies: absent unless the
 * demo is on; tokens and keys without the bearer secret, but only for the page itself (no other
 * origin, no host name but localhost: DNS rebinding); files that are not built say how to build them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryChatroomDirectory, MemoryChatroomRegistry, MemoryGroupDirectory } from '@im/core';
import { afterAll, describe, expect, it } from 'vitest';
import { chatroomAdmin } from '../src/chatrooms.js';
import { type AdminDeps, createAdminApp } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'im-demo-'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>demo</title>');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function deps(webDemo: boolean): AdminDeps {
  return {
    secret: 's3cret',
    presence: {
      devices: async () => [],
      kick: async () => false,
      publicKey: async (userId) => (userId === 'bob' ? Uint8Array.of(1, 2, 3) : null),
    },
    groups: new MemoryGroupDirectory(),
    chatrooms: chatroomAdmin(new MemoryChatroomDirectory(), new MemoryChatroomRegistry({ ttlMs: 60_000 })),
    webDemo: webDemo
      ? { dir, wsPort: 7300, tls: false, issueToken: async (userId, ttl) => `token-of-${userId}-${ttl}` }
      : null,
  };
}

const token = (headers: Record<string, string>) => ({
  method: 'POST' as const,
  url: '/demo/token',
  headers: { host: '127.0.0.1:7180', ...headers },
  payload: { userId: 'alice' },
});

describe('web demo routes', () => {
  it('do not exist unless the demo is on', async () => {
    const { app } = await createAdminApp(deps(false));
    expect((await app.inject({ method: 'GET', url: '/demo/' })).statusCode).toBe(401);
    expect((await app.inject(token({}))).statusCode).toBe(401);
  });

  it('serve the page, its settings, tokens and public keys without the bearer secret', async () => {
    const { app } = await createAdminApp(deps(true));
    const page = await app.inject({ method: 'GET', url: '/demo/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect((await app.inject({ method: 'GET', url: '/demo/config.json' })).json()).toEqual({
      wsPort: 7300,
      tls: false,
      path: '/im',
    });
    const issued = await app.inject(token({ origin: 'http://127.0.0.1:7180' }));
    expect(issued.statusCode).toBe(200);
    expect(issued.json()).toMatchObject({ userId: 'alice', token: 'token-of-alice-3600' });
    const key = await app.inject({
      method: 'GET',
      url: '/demo/keys/bob',
      headers: { host: 'localhost:7180' },
    });
    expect(key.json()).toEqual({ userId: 'bob', publicKey: Buffer.from([1, 2, 3]).toString('base64') });
    const none = await app.inject({ method: 'GET', url: '/demo/keys/carol', headers: { host: 'localhost' } });
    expect(none.statusCode).toBe(404);
    expect(none.json().message).toMatch(/no public key/);
  });

  it('refuse another origin and a host name other than localhost (DNS rebinding)', async () => {
    const { app } = await createAdminApp(deps(true));
    const foreign = await app.inject(token({ origin: 'https://evil.example' }));
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().message).toMatch(/another origin/);
    const rebound = await app.inject(token({ host: 'evil.example:7180' }));
    expect(rebound.statusCode).toBe(403);
    expect(rebound.json().message).toMatch(/localhost or an IP address/);
    expect((await app.inject(token({ host: '[::1]:7180' }))).statusCode).toBe(200);
    const bad = await app.inject({ ...token({}), payload: { userId: '' } });
    expect(bad.statusCode).toBe(400);
  });

  it('a file that is not built says how to build it; unknown files are 404', async () => {
    const { app } = await createAdminApp(deps(true));
    const script = await app.inject({ method: 'GET', url: '/demo/app.js' });
    expect(script.statusCode).toBe(404);
    expect(script.json().message).toMatch(/pnpm build:web/);
    expect((await app.inject({ method: 'GET', url: '/demo/..%2Fsecret' })).statusCode).toBe(404);
  });
});
