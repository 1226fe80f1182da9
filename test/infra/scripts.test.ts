/**
 * Tests of the test infrastructure's own scripts: the closing-line summarizer of scripts/test.sh
 * and the dependency-free Kafka readiness probe.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const summarize = join(here, '../../scripts/lib/summarize.mjs');
const ready = join(here, 'kafka/ready.mjs');

async function node(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, args);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('scripts/lib/summarize.mjs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'im-summarize-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const report = async (testResults: unknown[]) => {
    const file = join(dir, `${Math.random()}.json`);
    await writeFile(file, JSON.stringify({ testResults }));
    return file;
  };

  it('counts passed, failed and skipped tests from the JSON report', async () => {
    const file = await report([
      { name: 'a', status: 'passed', assertionResults: [{ status: 'passed' }, { status: 'skipped' }] },
      {
        name: 'b',
        status: 'failed',
        assertionResults: [{ status: 'passed' }, { status: 'failed' }, { status: 'todo' }],
      },
    ]);
    const r = await node([summarize, file, '1']);
    expect(r.stdout).toBe('2 passed, 1 failed, 2 skipped\n');
    expect(r.code).toBe(1);
  });

  it('counts a file that failed outside any test as one failure', async () => {
    const file = await report([
      { name: 'ok', status: 'passed', assertionResults: [{ status: 'passed' }] },
      { name: 'broken', status: 'failed', message: 'Cannot find module x\nstack', assertionResults: [] },
    ]);
    const r = await node([summarize, file, '1']);
    expect(r.stdout).toBe('1 passed, 1 failed\n');
    expect(r.stderr).toContain('broken failed outside any test: Cannot find module x');
    expect(r.code).toBe(1);
  });

  it('counts a run that failed outside any test (vitest exit ≠ 0, no failed test) as one failure', async () => {
    const file = await report([{ name: 'ok', status: 'passed', assertionResults: [{ status: 'passed' }] }]);
    const r = await node([summarize, file, '1']);
    expect(r.stdout).toBe('1 passed, 1 failed\n');
    expect(r.stderr).toContain('exited with code 1 though no test failed');
    expect(r.code).toBe(1);
  });

  it('counts each --also check (the chaos run) as one test, failed when its exit code is not 0', async () => {
    const file = await report([{ name: 'ok', status: 'passed', assertionResults: [{ status: 'passed' }] }]);
    const green = await node([summarize, file, '0', '--also', 'chaos=0']);
    expect(green).toMatchObject({ stdout: '2 passed, 0 failed\n', code: 0 });
    const red = await node([summarize, file, '0', '--also', 'chaos=1']);
    expect(red).toMatchObject({ stdout: '1 passed, 1 failed\n', code: 1 });
    expect(red.stderr).toContain('chaos failed (exit 1)');
  });

  it('reports a missing report as a failure, and an all-green report with exit 0', async () => {
    const missing = await node([summarize, join(dir, 'nope.json'), '1']);
    expect(missing.stdout).toBe('0 passed, 1 failed\n');
    expect(missing.code).toBe(1);
    const green = await node([
      summarize,
      await report([{ status: 'passed', assertionResults: [{ status: 'passed' }] }]),
    ]);
    expect(green).toMatchObject({ stdout: '1 passed, 0 failed\n', code: 0 });
  });
});

describe('test/infra/kafka/ready.mjs', () => {
  /** A fake broker answering any request with a Metadata v4 response listing `brokers` brokers. */
  async function fakeBroker(brokers: number): Promise<{ port: number; close: () => Promise<void> }> {
    const server = net.createServer((socket) => {
      socket.once('data', (req) => {
        const correlationId = req.readInt32BE(8); // size i32, api_key i16, api_version i16, correlation i32
        const body = Buffer.alloc(12);
        body.writeInt32BE(correlationId, 0);
        body.writeInt32BE(0, 4); // throttle_time_ms
        body.writeInt32BE(brokers, 8); // brokers array length (entries are not read by the probe)
        const size = Buffer.alloc(4);
        size.writeInt32BE(body.length);
        socket.end(Buffer.concat([size, body]));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    return { port, close: () => new Promise((r) => server.close(() => r())) };
  }

  it('is ready when the broker lists a broker, not before', async () => {
    const up = await fakeBroker(1);
    const starting = await fakeBroker(0);
    try {
      expect((await node([ready, `127.0.0.1:${up.port}`])).code).toBe(0);
      const r = await node([ready, `127.0.0.1:${starting.port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('no broker registered yet');
    } finally {
      await up.close();
      await starting.close();
    }
  });

  it('is not ready when nothing listens', async () => {
    const gone = await fakeBroker(1);
    await gone.close();
    const r = await node([ready, `127.0.0.1:${gone.port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ECONNREFUSED');
  });
});
