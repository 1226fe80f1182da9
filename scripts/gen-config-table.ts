/**
 * Writes the README's configuration table from the one config loader: the env names
 * (ENV_VARS), their defaults (defaultsFor('cluster'), and embedded mode's where it differs), what
 * each value must be (ENV_SCHEMA) and the doc comment on each Config field.
 * `--check` exits 1 when README.md is not what this would write (a test runs it).
 *   pnpm gen:config [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { type Config, defaultsFor, ENV_SCHEMA, ENV_VARS } from '../packages/core/src/config.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CONFIG_TS = join(root, 'packages/core/src/config.ts');
const README = join(root, 'README.md');
const START = '<!-- config-table:start -->';
const END = '<!-- config-table:end -->';

/** Config field path → its doc comment. */
function fieldDocs(): Map<string, string> {
  const source = ts.createSourceFile(
    CONFIG_TS,
    readFileSync(CONFIG_TS, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  const docs = new Map<string, string>();
  const visit = (members: ts.NodeArray<ts.TypeElement>, prefix: string): void => {
    for (const m of members) {
      if (!ts.isPropertySignature(m) || !m.name) continue;
      const path = prefix + m.name.getText(source);
      const jsDoc = (m as unknown as { jsDoc?: ts.JSDoc[] }).jsDoc;
      const text = jsDoc
        ?.map((d) => ts.getTextOfJSDocComment(d.comment) ?? '')
        .join(' ')
        .trim();
      if (text) docs.set(path, text.replace(/\s+/g, ' '));
      if (m.type && ts.isTypeLiteralNode(m.type)) visit(m.type.members, `${path}.`);
    }
  };
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === 'Config') visit(node.members, '');
  });
  return docs;
}

function valueAt(cfg: Config, path: string): string {
  const value = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], cfg);
  if (Array.isArray(value)) return value.join(',');
  if (value === '') return '—';
  return String(value);
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

function defaultCell(path: string): string {
  const cluster = valueAt(defaultsFor('cluster'), path);
  const embedded = valueAt(defaultsFor('embedded'), path);
  const shown = `\`${cell(cluster)}\``;
  return embedded === cluster ? shown : `${shown} (embedded: \`${cell(embedded)}\`)`;
}

export function renderTable(): string {
  const docs = fieldDocs();
  const rows = (Object.entries(ENV_VARS) as [keyof typeof ENV_VARS, string][]).map(([name, path]) => {
    const doc = docs.get(path);
    if (!doc) throw new Error(`config.ts: the field ${path} (${name}) has no doc comment`);
    return `| \`${name}\` | ${defaultCell(path)} | ${cell(ENV_SCHEMA[name].what)} | ${cell(doc)} |`;
  });
  return ['| env | default | value | what |', '|---|---|---|---|', ...rows].join('\n');
}

export function renderReadme(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the ${START} … ${END} markers`);
  return `${readme.slice(0, start + START.length)}\n${renderTable()}\n${readme.slice(end)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const current = readFileSync(README, 'utf8');
  const wanted = renderReadme(current);
  if (process.argv.includes('--check')) {
    if (current !== wanted) {
      process.stderr.write('README.md configuration table is stale: run `pnpm gen:config`\n');
      process.exit(1);
    }
  } else if (current !== wanted) {
    writeFileSync(README, wanted);
    process.stdout.write('README.md configuration table updated\n');
  }
}
