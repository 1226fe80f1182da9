/**
 * docs/admin-api.md runs as written: every ```sh example after the setup block is run with bash
 * and curl, in order, against a fresh embedded server, and must answer the status its `# → NNN`
 * line announces. So every route's documented example is known to work.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, Status } from '../../../packages/protocol/src/index.js';
import { connectAs } from '../../../test/support/im.js';
import type { RawClient } from '../../../test/support/raw-client.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';

const DOC = fileURLToPath(new URL('../../../docs/admin-api.md', import.meta.url));

interface Example {
  expected: number;
  script: string;
  line: number;
}

function examples(markdown: string): Example[] {
  const out: Example[] = [];
  const re = /```sh\n([\s\S]*?)```/g;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    const body = m[1] as string;
    const status = /^# → (\d{3})\n/.exec(body);
    if (!status) continue; // the setup block
    out.push({
      expected: Number(status[1]),
      script: body.slice(status[0].length),
      line: markdown.slice(0, m.index).split('\n').length,
    });
  }
  return out;
}

/** Runs one example; curl reports the status on stderr, so pipes to jq or grep still see the body. */
function runExample(
  script: string,
  env: Record<string, string>,
): Promise<{ status: number; out: string; err: string }> {
  const prelude = `set -o pipefail\ncurl() { command curl -w '%{stderr}\\n@status=%{http_code}\\n' "$@"; }\n`;
  return new Promise((resolve) => {
    execFile('bash', ['-c', prelude + script], { env: { ...process.env, ...env } }, (err, out, stderr) => {
      const codes = [...stderr.matchAll(/@status=(\d{3})/g)].map((x) => Number(x[1]));
      resolve({ status: err ? -1 : (codes.at(-1) ?? 0), out, err: stderr });
    });
  });
}

let srv: TestServer;
let alice: RawClient;

beforeAll(async () => {
  srv = await startTestServer();
  // "alice is online on a device `phone`" (the users section).
  alice = (await connectAs(srv.port, await srv.identity('alice', 'phone'))).c;
});

afterAll(async () => {
  alice?.close();
  await srv?.close();
});

describe('docs/admin-api.md', () => {
  const all = examples(readFileSync(DOC, 'utf8'));

  it('has an example for every route of the OpenAPI document', async () => {
    const res = await fetch(`${srv.adminUrl}/openapi.json`);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = all.map((e) => e.script).join('\n');
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods)) {
        const example = path.replace(/\{[^}]+\}/g, '[^/ ]+');
        const re =
          method === 'get'
            ? new RegExp(`curl -sS \\$ADMIN${example}[ |\\n]`)
            : new RegExp(`-X ${method.toUpperCase()} \\$ADMIN${example}[ \\\\\\n]`);
        expect(re.test(documented), `${method.toUpperCase()} ${path}`).toBe(true);
      }
    }
  });

  it('every example answers the status it announces, run in order', { timeout: 60_000 }, async () => {
    expect(all.length).toBeGreaterThan(15);
    const env = { ADMIN: srv.adminUrl, IM_ADMIN_SECRET: srv.adminSecret };
    for (const ex of all) {
      const { status, out, err } = await runExample(ex.script, env);
      expect(status, `docs/admin-api.md:${ex.line}\n${ex.script}\nstdout: ${out}\nstderr: ${err}`).toBe(
        ex.expected,
      );
    }
    // The kick example closed alice's connection with KICKED.
    const kicked = await alice.next((f) => f.command === Command.LOGOUT);
    expect(kicked.status).toBe(Status.KICKED);
  });
});
