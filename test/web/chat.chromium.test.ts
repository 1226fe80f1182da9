/**
 * The web chat demo in a real headless Chromium (issue 12 item 3, "done when": a browser and a CLI
 * user chat through the embedded server). The embedded server runs with its WebSocket listener and
 * IM_WEB_DEMO; the page is built from services/embedded/web with the browser SDK. Two pages (alice,
 * bob) chat live and see each other typing; a terminal user (the `im` CLI over TCP) and alice
 * exchange messages; alice recalls a message and bob sees it go; a sealed (end-to-end) message
 * opens in bob's page; alice scrolls back through a long history. The last view is saved as a
 * screenshot: test/.infra/web-chat.png always, docs/img/web-chat.png (the README's) when
 * UPDATE_SCREENSHOTS=1.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Proc, spawnIm } from '../../packages/cli/test/helpers/spawn-im.js';
import { ImClient, single, textContent } from '../../packages/client/src/index.js';
// @ts-expect-error: a plain .mjs build script without types
import { buildWebDemo } from '../../services/embedded/web/build.mjs';
import { chromiumMissing, launchChromium } from '../support/chromium.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SHOT = join(ROOT, 'test/.infra/web-chat.png');
const README_SHOT = join(ROOT, 'docs/img/web-chat.png');
/** Bound for anything that crosses the server (a push, a typing indicator, a CLI start). */
const WAIT_MS = 15_000;

const missing = chromiumMissing();

describe.skipIf(missing !== null)(
  `web chat demo in Chromium${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let srv: TestServer;
    let browser: Browser;
    const procs: Proc[] = [];

    beforeAll(async () => {
      await buildWebDemo();
      srv = await startTestServer({ edge: { ws: true, wsPort: 0 }, admin: { webDemo: true } });
      browser = await launchChromium();
    });

    afterAll(async () => {
      for (const p of procs) p.child.kill('SIGINT');
      await browser?.close();
      await srv?.close();
    });

    /** A page logged in as userId. */
    async function loggedIn(userId: string): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
      const page = await context.newPage();
      page.on('pageerror', (err) => console.error(`[${userId} page] ${err.message}`));
      await page.goto(`${srv.adminUrl}/demo/`);
      await page.fill('#login-user', userId);
      await page.click('#login-form button[type=submit]');
      await page.locator('#status.online').waitFor({ timeout: WAIT_MS });
      return page;
    }

    async function openChat(page: Page, peer: string): Promise<void> {
      const item = page.locator(`#conversations li[data-peer="${peer}"]`);
      if ((await item.count()) > 0) await item.click();
      else {
        await page.fill('#new-chat-user', peer);
        await page.press('#new-chat-user', 'Enter');
      }
      await page.locator('#peer', { hasText: peer }).waitFor({ timeout: WAIT_MS });
    }

    async function say(page: Page, text: string): Promise<void> {
      await page.fill('#text', text);
      await page.press('#text', 'Enter');
      await page.locator('#messages li.msg.mine .text', { hasText: text }).waitFor({ timeout: WAIT_MS });
    }

    const bubble = (page: Page, text: string) => page.locator('#messages li.msg', { hasText: text });

    /** The `im` CLI against this server, as a person in a terminal runs it. */
    const imEnv = () => ({ IM_JWT_SECRET: srv.config.auth.jwtSecret, IM_EDGE_PORT: String(srv.port) });

    it('two browsers and a terminal chat; typing, recall, end-to-end and history work', {
      timeout: 120_000,
    }, async () => {
      // Plain names: the server is this file's own (and they are what the screenshot shows).
      const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'];

      // A long history from dave, written before alice's page exists: only scrolling brings it back.
      const daveClient = new ImClient({
        host: '127.0.0.1',
        port: srv.port,
        userId: dave,
        token: (await srv.identity(dave)).token,
        deviceId: 'script',
        reconnect: false,
      });
      await daveClient.connect();
      for (let i = 1; i <= 45; i++)
        await daveClient.send({ conversation: single(alice), content: textContent(`dave #${i}`) });
      await daveClient.close();

      // carol listens in a terminal (TCP) from the start.
      const listener = spawnIm(['listen', '--as', carol], imEnv());
      procs.push(listener);
      await expect
        .poll(() => listener.err.some((l) => l.startsWith('listening as')), { timeout: WAIT_MS })
        .toBe(true);

      const a = await loggedIn(alice);
      const b = await loggedIn(bob);

      // Live chat, with typing: bob has alice's chat open and sees her typing before the message.
      await openChat(a, bob);
      await openChat(b, alice);
      await a.fill('#text', 'hi bob');
      await b.locator('#typing', { hasText: `${alice} is typing` }).waitFor({ timeout: WAIT_MS });
      await a.press('#text', 'Enter');
      await bubble(b, 'hi bob').waitFor({ timeout: WAIT_MS });
      await say(b, 'hi alice, over WebSocket');
      await bubble(a, 'hi alice, over WebSocket').waitFor({ timeout: WAIT_MS });

      // The terminal user: carol's message appears in alice's conversation list; alice's answer
      // is printed by carol's `im listen`.
      const sent = spawnIm(['send', '--as', carol, alice, 'hello from the terminal'], imEnv());
      expect(await sent.exit).toBe(0);
      await a.locator(`#conversations li[data-peer="${carol}"] .unread`).waitFor({ timeout: WAIT_MS });
      await openChat(a, carol);
      await bubble(a, 'hello from the terminal').waitFor({ timeout: WAIT_MS });
      await say(a, 'hi carol, from the browser');
      await expect
        .poll(() => listener.out.some((l) => l.includes(`${alice} → ${carol}: hi carol, from the browser`)), {
          timeout: WAIT_MS,
        })
        .toBe(true);

      // Recall: alice takes a message back; bob's page shows it recalled.
      await openChat(a, bob);
      await say(a, 'oops, wrong chat');
      await bubble(b, 'oops, wrong chat').waitFor({ timeout: WAIT_MS });
      await bubble(a, 'oops, wrong chat').locator('button.recall').click();
      await b.locator('#messages li.msg.recalled', { hasText: `${alice} recalled a message` }).waitFor({
        timeout: WAIT_MS,
      });
      expect(await bubble(b, 'oops, wrong chat').count()).toBe(0);

      // End to end: sealed in alice's browser for bob's key, opened in bob's.
      await a.check('#e2e');
      await say(a, 'sealed for bob only');
      await b
        .locator('#messages li.msg .text.lock', { hasText: 'sealed for bob only' })
        .waitFor({ timeout: WAIT_MS });
      await a.uncheck('#e2e');
      await say(a, 'and this one in the clear');
      await bubble(b, 'and this one in the clear').waitFor({ timeout: WAIT_MS });
      expect(await b.locator('#messages li.msg .text.lock').count()).toBe(1);

      // History: dave's 45 messages page in 20 at a time as alice scrolls up.
      await openChat(a, dave);
      const daves = a.locator('#messages li.msg', { hasText: 'dave #' });
      await expect.poll(() => daves.count(), { timeout: WAIT_MS }).toBeGreaterThanOrEqual(20);
      await expect
        .poll(
          async () => {
            await a.locator('#messages').evaluate((el) => {
              el.scrollTop = 0;
            });
            return daves.count();
          },
          { timeout: WAIT_MS },
        )
        .toBe(45);
      await a.locator('#messages li.start').waitFor({ timeout: WAIT_MS });
      expect(await a.locator('#messages li.msg .text').first().textContent()).toBe('dave #1');

      // The README's picture: alice's view of her chat with bob.
      await openChat(a, bob);
      await a.fill('#text', 'see you tomorrow');
      mkdirSync(join(ROOT, 'test/.infra'), { recursive: true });
      await a.screenshot({ path: SHOT });
      if (process.env.UPDATE_SCREENSHOTS === '1') {
        mkdirSync(join(ROOT, 'docs/img'), { recursive: true });
        copyFileSync(SHOT, README_SHOT);
      }
    });

    it('the demo routes refuse other sites: a foreign Origin or a host name other than localhost', async () => {
      const post = (headers: Record<string, string>) =>
        fetch(`${srv.adminUrl}/demo/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ userId: 'mallory' }),
        });
      const foreign = await post({ origin: 'https://evil.example' });
      expect(foreign.status).toBe(403);
      expect(((await foreign.json()) as { message: string }).message).toMatch(/another origin/);
      const own = await post({ origin: srv.adminUrl });
      expect(own.status).toBe(200);
      expect(((await own.json()) as { token: string }).token.split('.')).toHaveLength(3);
    });
  },
);
