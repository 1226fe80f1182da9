/**
 * The launcher's `root` option (scripts/cluster/launch.ts): the processes run the services of the
 * checkout they are given, from its directory — how bench:cluster measures an older commit with
 * the same launcher. A fake checkout whose storage exits at once shows it without any backend.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { hasService, ROOT, startCluster } from '../../scripts/cluster/launch.js';

const fake = mkdtempSync(join(tmpdir(), 'im-fake-checkout-'));
afterAll(() => rmSync(fake, { recursive: true, force: true }));

it('runs services/<name>/src/main.ts of the given root, with that root as working directory', async () => {
  mkdirSync(join(fake, 'services/storage/src'), { recursive: true });
  writeFileSync(
    join(fake, 'services/storage/src/main.ts'),
    "process.stdout.write('fake storage in ' + process.cwd() + '\\n');\nprocess.exit(3);\n",
  );
  // Its own node_modules, as a real checkout has (tsx is resolved from the working directory).
  symlinkSync(join(ROOT, 'node_modules'), join(fake, 'node_modules'));
  expect(hasService('admin', fake)).toBe(false);
  expect(hasService('admin', ROOT)).toBe(true);

  const started = startCluster({ root: fake, env: {}, readyTimeoutMs: 30_000, stopTimeoutMs: 5_000 });
  await expect(started).rejects.toThrow(/storage exited during startup \(code 3/);
  await expect(started).rejects.toThrow(`fake storage in ${fake}`);
}, 60_000);
