import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'im-proto-gen-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('generated protobuf code (src/gen)', () => {
  it('is what scripts/gen-proto.mjs makes from proto/ today', () => {
    execFileSync(process.execPath, [join(pkg, 'scripts', 'gen-proto.mjs'), out], { cwd: pkg, stdio: 'pipe' });
    for (const file of ['im.ts', 'internal.ts', 'services.ts']) {
      const committed = readFileSync(join(pkg, 'src', 'gen', file), 'utf8');
      expect(committed.startsWith('// GENERATED')).toBe(true);
      expect(readFileSync(join(out, file), 'utf8')).toBe(committed);
    }
  });
});
