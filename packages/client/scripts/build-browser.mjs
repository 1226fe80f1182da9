#!/usr/bin/env node
/**
 * Builds the browser SDK (src/browser.ts, `@im/client/browser`) into ONE ES module with esbuild:
 * dist/im-client.browser.js (minified, with a source map). dist/ is git-ignored: the file is made
 * by this script (`pnpm build:web` at the root), never committed. Prints the raw and gzip sizes
 * (the README quotes them).
 *
 * platform 'browser' makes any `node:` import below browser.ts a build error, so the bundle cannot
 * grow a Node dependency unnoticed (packages/client/test/browser-bundle.test.ts builds it).
 *
 *   node packages/client/scripts/build-browser.mjs [--outdir DIR]
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE_NAME = 'im-client.browser.js';

/**
 * How every browser bundle of the project is built (this SDK, the web chat demo): one minified
 * ES module for current browsers, with a source map; platform 'browser' refuses `node:` imports.
 */
export const BROWSER_BUILD = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'silent',
};

/** Builds the bundle into outdir; returns its path and sizes in bytes. */
export async function buildBrowserSdk(outdir = join(PACKAGE, 'dist')) {
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, BUNDLE_NAME);
  const result = await build({
    entryPoints: [join(PACKAGE, 'src/browser.ts')],
    outfile,
    ...BROWSER_BUILD,
    metafile: true,
  });
  const output = result.metafile.outputs[Object.keys(result.metafile.outputs).find((k) => k.endsWith('.js'))];
  const code = readFileSync(outfile);
  return {
    outfile,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    inputs: Object.keys(output.inputs),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--outdir');
  const { outfile, bytes, gzipBytes } = await buildBrowserSdk(
    i > 0 ? resolve(process.argv[i + 1]) : undefined,
  );
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  process.stdout.write(`${outfile}: ${kib(bytes)} minified, ${kib(gzipBytes)} gzip\n`);
}
