/** Entry point of `im` (bin/im.mjs, or `pnpm im` from the repo root). */
import { createInterface } from 'node:readline';
import { run } from './cli.js';

// Ctrl-C / SIGTERM end `im listen` cleanly (close the connection, exit 0).
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());

const code = await run(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  signal: stop.signal,
  // Line by line, whether stdin is a terminal or a pipe (tests, `echo hi | im chat ...`).
  lines: () => createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY }),
});
process.exit(code);
