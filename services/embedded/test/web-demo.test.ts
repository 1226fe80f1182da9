/**
 * The web chat demo's wiring in the embedded server (IM_WEB_DEMO): it refuses to start without
 * what the page needs, and its page script type-checks against the browser's DOM (it is bundled
 * by esbuild, which does not type-check). The page itself runs in Chromium: test/web.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '@im/core';
import { describe, expect, it } from 'vitest';
import { startEmbedded } from '../src/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');

describe('IM_WEB_DEMO', () => {
  it('refuses to start without the WebSocket listener or development tokens, naming what is missing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'im-demo-'));
    try {
      const config = loadConfig(
        {},
        {
          logLevel: 'silent',
          dataDir,
          auth: { jwtSecret: 'x'.repeat(32) },
          edge: { port: 0, ws: false },
          admin: { port: 0, secret: 'admin', webDemo: true, devTokens: false },
        },
        'embedded',
      );
      await expect(startEmbedded(config)).rejects.toThrow(/IM_EDGE_WS=true.*IM_ADMIN_DEV_TOKENS=true/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('the page script type-checks with the DOM library', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const out = await new Promise<{ code: number; text: string }>((done) =>
      execFile(
        process.execPath,
        [tsc, '-p', join(ROOT, 'services/embedded/web/tsconfig.json')],
        (err, stdout) => done({ code: err ? 1 : 0, text: stdout }),
      ),
    );
    expect(out.text).toBe('');
    expect(out.code).toBe(0);
  }, 60_000);
});
