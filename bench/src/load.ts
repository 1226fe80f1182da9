/**
 * Load generator: `pnpm bench --embedded --rate 1k,5k --duration 10` or
 * `pnpm bench --target 127.0.0.1:7100,127.0.0.1:7101 --secret S --rate 3000`.
 * Progress on stderr every second; a table per rate and a summary on stdout; `--json` the same figures.
 */
import { writeFileSync } from 'node:fs';
import { LOAD_USAGE, type LoadOptions, parseLoadArgs, UsageError } from './args.js';
import { runLoad } from './load-run.js';
import { describeMachine, machineInfo } from './machine.js';
import { formatTable, type RunResult } from './report.js';
import { type ServerProcess, startServerProcess } from './server-process.js';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    process.stdout.write(`${LOAD_USAGE}\n`);
    return 0;
  }
  let opts: LoadOptions;
  try {
    opts = parseLoadArgs(argv, process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${LOAD_USAGE}\n`);
      return 2;
    }
    throw err;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const machine = machineInfo();
  log(`machine: ${describeMachine(machine)}`);

  let server: ServerProcess | undefined;
  let targets = opts.targets;
  let secret = opts.secret;
  if (opts.embedded) {
    server = await startServerProcess({ cpuProfDir: opts.serverCpuProf, kind: opts.server });
    targets = [{ host: server.host, port: server.port }];
    secret = server.secret;
    log(`${opts.server} server: pid ${server.pid} on ${server.host}:${server.port}, data ${server.dataDir}`);
  }
  const stop = async () => {
    await server?.stop();
  };
  process.once('SIGINT', () => {
    void stop().then(() => process.exit(130));
  });

  const results: RunResult[] = [];
  try {
    for (const rate of opts.rates) {
      const label = `${opts.embedded ? opts.server : targets.map((t) => `${t.host}:${t.port}`).join(',')} ${rate}/s`;
      log(
        `\n=== ${label}: ${opts.connections} connections, ${opts.mix.kind === 'group' ? `group:${opts.mix.size}` : 'one-to-one'}, ${opts.bodyBytes} B, warmup ${opts.warmupS} s, ${opts.durationS} s measured`,
      );
      const result = await runLoad({ opts, targets, secret, rate, label, log });
      results.push(result);
      process.stdout.write(`\n${label}\n${formatTable([result])}\n`);
    }
  } finally {
    await stop();
  }
  if (results.length > 1) process.stdout.write(`\nsummary (latencies in ms)\n${formatTable(results)}\n`);
  if (opts.json) {
    const { secret: _omit, adminSecret: _omit2, ...shown } = opts;
    writeFileSync(opts.json, `${JSON.stringify({ machine, options: shown, results }, null, 2)}\n`);
    log(`figures written to ${opts.json}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
