import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageClient } from '../src/index.js';

const fixture = fileURLToPath(new URL('./fixtures/slow-service.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The fixture process and a way to wait for a line it prints. */
function start() {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const output: string[] = [];
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  let buf = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      output.push(line);
      for (const w of waiters.filter((x) => line.startsWith(x.prefix))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const line = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const seen = output.find((l) => l.startsWith(prefix));
      if (seen !== undefined) return resolve(seen);
      waiters.push({ prefix, resolve });
      child.once('exit', (code) => reject(new Error(`fixture exited (${code}) before printing ${prefix}`)));
    });
  return { child, output, line };
}

describe('a service process on SIGTERM', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('turns not-ready, finishes the in-flight call, closes backends and exits 0; a second SIGTERM changes nothing', async () => {
    const proc = start();
    child = proc.child;
    const { grpcPort, adminPort } = JSON.parse((await proc.line('READY ')).slice(6));
    expect((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status).toBe(200);

    const client = new MessageClient(`127.0.0.1:${grpcPort}`, { deadlineMs: 10_000 });
    const inFlight = client.head('abcd');
    await proc.line('HEAD STARTED');
    const exited = once(proc.child, 'exit');
    proc.child.kill('SIGTERM');
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status).toBe(503);
    proc.child.kill('SIGTERM');
    expect((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).status).toBe(200);
    expect(proc.child.exitCode).toBeNull();
    expect(proc.output).not.toContain('BACKENDS CLOSED');

    proc.child.stdin?.write('RELEASE\n');
    expect(await inFlight).toBe(4);
    const [code, signal] = await exited;
    expect({ code, signal }).toStrictEqual({ code: 0, signal: null });
    expect(proc.output).toContain('BACKENDS CLOSED');
    await client.close();
  });
});
