#!/usr/bin/env node
/**
 * Builds the web chat demo's script: app.ts with the browser SDK (@im/client/browser) into one ES
 * module, dist/app.js (git-ignored; `pnpm build:web` at the root runs this and the SDK bundle).
 *
 *   node services/embedded/web/build.mjs [--outdir DIR]
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BROWSER_BUILD } from '../../../packages/client/scripts/build-browser.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Builds dist/app.js (or into outdir); returns its path. */
export async function buildWebDemo(outdir = join(HERE, 'dist')) {
  const outfile = join(outdir, 'app.js');
  await build({
    entryPoints: [join(HERE, 'app.ts')],
    outfile,
    // A node: import anywhere below app.ts is a build error.
    ...BROWSER_BUILD,
  });
  return outfile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--outdir');
  process.stdout.write(`${await buildWebDemo(i > 0 ? resolve(process.argv[i + 1]) : undefined)}\n`);
}
