/** Entry point of `im` (bin/im.mjs, or `pnpm im` from the repo root). */
import { run } from './cli.js';

// Ctrl-C / SIGTERM end `im listen` cleanly (close the connection, exit 0).
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());

const code = await run(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  signal: stop.signal,
});
process.exit(code);
