/**
 * The docs say what the code does: the README's configuration table is generated from the
 * config loader, and docs/protocol.md's status table is the code's status catalog.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATUS_CATALOG } from '../../packages/protocol/src/index.js';
import { renderReadme } from '../../scripts/gen-config-table.js';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

describe('README', () => {
  it('has the configuration table the config loader generates (pnpm gen:config)', () => {
    const readme = read('README.md');
    expect(readme).toBe(renderReadme(readme));
  });

  it('names the two fresh-machine commands, and they exist', () => {
    const readme = read('README.md');
    for (const script of ['scripts/server.sh', 'scripts/test.sh']) {
      expect(readme).toContain(`bash ${script}`);
      expect(existsSync(join(root, script))).toBe(true);
    }
    expect(read('.ci/run')).toContain('scripts/test.sh');
  });
});

describe('docs/protocol.md', () => {
  it('lists exactly the status codes of the code, with the same names and meanings', () => {
    const doc = read('docs/protocol.md');
    const section = doc.slice(doc.indexOf('## 3. Status codes'), doc.indexOf('## 4. Commands'));
    const rows = [...section.matchAll(/^\| (\d+) \| (\w+) \| (.+) \|$/gm)].map((m) => ({
      code: Number(m[1]),
      name: m[2],
      meaning: m[3],
    }));
    expect(rows).toEqual(STATUS_CATALOG.map(({ code, name, meaning }) => ({ code, name, meaning })));
  });
});
