/**
 * The built browser SDK (scripts/build-browser.mjs → one ES module): no `node:` import made it in
 * (esbuild's browser platform refuses them; the output is checked too), and the bundle file itself,
 * loaded as a module, logs in over WebSocket, chats, and opens an end-to-end message with WebCrypto
 * against the real server.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without types
import { buildBrowserSdk } from '../scripts/build-browser.mjs';
import { startTestServer, type TestServer } from './helpers/embedded.js';
import { waitFor } from './helpers/wait.js';

type BrowserSdk = typeof import('../src/browser.js');

let outdir: string;
let built: { outfile: string; bytes: number; gzipBytes: number; inputs: string[] };
let sdk: BrowserSdk;
let srv: TestServer;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'im-browser-sdk-'));
  built = await buildBrowserSdk(outdir);
  sdk = (await import(pathToFileURL(built.outfile).href)) as BrowserSdk;
  srv = await startTestServer();
});

afterAll(async () => {
  await srv?.stop();
  rmSync(outdir, { recursive: true, force: true });
});

describe('the browser SDK bundle', () => {
  it('is one ES module with nothing of Node in it', () => {
    const code = readFileSync(built.outfile, 'utf8');
    expect(code).not.toMatch(/["']node:/);
    expect(code).not.toMatch(/\brequire\(/);
    expect(built.inputs.some((i) => i.endsWith('src/runtime.web.ts'))).toBe(true);
    expect(
      built.inputs.some((i) => /runtime\.node|transport\.node|compression\.ts|crypto\/(aead|rsa)/.test(i)),
    ).toBe(false);
    expect(built.gzipBytes).toBeLessThan(built.bytes);
  });

  it('logs in over WebSocket, chats, and opens an end-to-end message', async () => {
    const keyOf = () =>
      generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
    const [aliceKey, bobKey] = [keyOf(), keyOf()];
    const make = async (userId: string, e2eKey: string) =>
      new sdk.ImClient({
        host: '127.0.0.1',
        port: srv.wsPort,
        userId,
        token: await srv.token(userId),
        deviceId: 'web',
        platform: 3,
        reconnect: false,
        e2eKey,
      });
    const alice = await make('bundle-alice', aliceKey.privateKey);
    const bob = await make('bundle-bob', bobKey.privateKey);
    try {
      await alice.connect();
      await bob.connect();
      const got: string[] = [];
      bob.on('message', (m) => got.push(sdk.messageText(m)));
      await alice.sendText('bundle-bob', 'plain hello');
      await alice.sendEncrypted({
        conversation: sdk.single('bundle-bob'),
        content: sdk.textContent('sealed hello'),
        recipientKeys: [bobKey.publicKey],
      });
      await waitFor('both messages', () => got.length === 2);
      expect(got).toEqual(['plain hello', 'sealed hello']);
      expect(alice.connection?.runtimeName).toBe('web');
    } finally {
      await alice.close();
      await bob.close();
    }
  });
});
