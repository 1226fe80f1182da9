/**
 * `pnpm start` as a person runs it (services/embedded/src/main.ts in a child process, ports 0, a
 * temp data dir, no secrets in the environment): docs/security.md, Defaults — the admin API
 * listens on loopback unless configured, and no secret reaches stdout or a log line; the files
 * holding them are named instead, with a command that reads them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../packages/client/test/helpers/wait.js';
import { DEV_ADMIN_SECRET_FILE, DEV_SECRET_FILE } from '../src/dev-secret.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

interface Run {
  child: ChildProcess;
  out: () => string;
  dataDir: string;
}

const runs: Run[] = [];

afterEach(async () => {
  for (const r of runs.splice(0)) {
    if (r.child.exitCode === null) {
      const exited = new Promise((resolve) => r.child.once('exit', resolve));
      r.child.kill('SIGTERM');
      await exited;
    }
    await rm(r.dataDir, { recursive: true, force: true });
  }
});

async function start(env: Record<string, string>): Promise<Run> {
  const dataDir = await mkdtemp(join(tmpdir(), 'im-embedded-main-'));
  const { IM_JWT_SECRET: _j, IM_ADMIN_SECRET: _a, IM_ADMIN_HOST: _h, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...inherited,
      IM_DATA_DIR: dataDir,
      IM_EDGE_PORT: '0',
      IM_ADMIN_PORT: '0',
      IM_EDGE_HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      IM_DRAIN_GRACE_MS: '100',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    text += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    text += c;
  });
  const run = { child, out: () => text, dataDir };
  runs.push(run);
  return run;
}

/** The JSON log line with this msg. */
function logLine(out: string, msg: string): Record<string, unknown> | undefined {
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const o = JSON.parse(line) as Record<string, unknown>;
    if (o.msg === msg) return o;
  }
  return undefined;
}

describe('embedded main: safer defaults', { timeout: 60_000 }, () => {
  it('prints the secret files and a command that reads them, never the secrets', async () => {
    // LOG_FORMAT=pretty as well: the log lines are readable, and the secrets are not in them either.
    const run = await start({ LOG_FORMAT: 'pretty' });
    await waitFor('admin help printed', () => run.out().includes('/v1/users/alice/devices'), 45_000);
    const jwtPath = join(run.dataDir, DEV_SECRET_FILE);
    const adminPath = join(run.dataDir, DEV_ADMIN_SECRET_FILE);
    const jwtSecret = (await readFile(jwtPath, 'utf8')).trim();
    const adminSecret = (await readFile(adminPath, 'utf8')).trim();
    expect(jwtSecret.length).toBeGreaterThanOrEqual(32);
    const out = run.out();
    expect(out).not.toContain(jwtSecret);
    expect(out).not.toContain(adminSecret);
    expect(out).toContain(`export IM_JWT_SECRET="$(cat ${jwtPath})"`);
    expect(out).toContain(`development bearer secret in ${adminPath}`);
    expect(out).toContain(`authorization: Bearer $(cat ${adminPath})`);
    expect(out).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}embedded-1: admin API listening {2}host=127\.0\.0\.1 port=\d+$/m,
    );
    expect(out).not.toMatch(/^\{"level"/m);
  });

  it('serves the admin API on 127.0.0.1 unless IM_ADMIN_HOST says otherwise', async () => {
    const run = await start({});
    const line = await waitFor('admin log line', () => logLine(run.out(), 'admin API listening'), 45_000);
    expect(line.host).toBe('127.0.0.1');
    const port = line.port as number;
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    const open = await start({ IM_ADMIN_HOST: '0.0.0.0' });
    const openLine = await waitFor(
      'admin log line',
      () => logLine(open.out(), 'admin API listening'),
      45_000,
    );
    expect(openLine.host).toBe('0.0.0.0');
  });
});
