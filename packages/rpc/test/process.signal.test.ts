import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageClient } from '../src/index.js';

const fixture = fileURLToPath(new URL('./fixtures/slow-service.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function start(): {
  child: ChildProcess;
  output: string[];
  ready: Promise<{ grpcPort: number; adminPort: number }>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    cwd: repoRoot,
    env: { ...process.env, HEAD_DELAY_MS: '400' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const output: string[] = [];
  const ready = new Promise<{ grpcPort: number; adminPort: number }>((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        output.push(line);
        if (line.startsWith('READY ')) resolve(JSON.parse(line.slice(6)));
      }
    });
    child.once('exit', (code) => reject(new Error(`fixture exited early with ${code}`)));
  });
  return { child, output, ready };
}

describe('a service process on SIGTERM', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('turns not-ready, finishes the in-flight call, closes backends and exits 0; a second SIGTERM changes nothing', async () => {
    const proc = start();
    child = proc.child;
    const { grpcPort, adminPort } = await proc.ready;
    expect((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status).toBe(200);

    const client = new MessageClient(`127.0.0.1:${grpcPort}`, { deadlineMs: 5_000 });
    const inFlight = client.head('abcd');
    await new Promise((r) => setTimeout(r, 100));
    const exited = once(proc.child, 'exit');
    proc.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    proc.child.kill('SIGTERM');
    expect((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status).toBe(503);

    expect(await inFlight).toBe(4);
    const [code, signal] = await exited;
    expect({ code, signal }).toStrictEqual({ code: 0, signal: null });
    expect(proc.output).toContain('BACKENDS CLOSED');
    await client.close();
  });
});
