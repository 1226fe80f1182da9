import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { devSecretPath, readOrCreateDevSecret } from '../src/dev-secret.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

it('creates a random secret file with mode 0600 (and the data dir), then reuses it', async () => {
  const base = await mkdtemp(join(tmpdir(), 'im-dev-secret-'));
  dirs.push(base);
  const dataDir = join(base, 'nested', 'data');
  const first = await readOrCreateDevSecret(dataDir);
  expect(first.created).toBe(true);
  expect(first.path).toBe(devSecretPath(dataDir));
  expect(first.secret.length).toBeGreaterThanOrEqual(32);
  expect((await stat(first.path)).mode & 0o777).toBe(0o600);
  expect((await readFile(first.path, 'utf8')).trim()).toBe(first.secret);

  const again = await readOrCreateDevSecret(dataDir);
  expect(again).toEqual({ ...first, created: false });

  const other = await mkdtemp(join(tmpdir(), 'im-dev-secret-'));
  dirs.push(other);
  expect((await readOrCreateDevSecret(other)).secret).not.toBe(first.secret);
});
