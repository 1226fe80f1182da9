/** Runs the `im` CLI as a user does: a child process of bin/im.mjs, its output split into lines. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/im.mjs', import.meta.url));

/** The line `im listen` prints per message. */
export const LINE = /^\[\d\d:\d\d:\d\d\] (\S+) → (.+): (.*) {2}\(seq (\d+), uid (\d+)\)$/;

export interface Proc {
  child: ChildProcess;
  out: string[];
  err: string[];
  exit: Promise<number>;
}

export type Env = Record<string, string | undefined>;

/**
 * Starts `im args`; the environment is this process's with `env` on top (undefined removes a name).
 * With `stdin`, its standard input is a pipe the test writes lines to (`im chat`).
 */
export function spawnIm(args: string[], env: Env, opts: { stdin?: boolean } = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const err: string[] = [];
  for (const [stream, into] of [
    [child.stdout, out],
    [child.stderr, err],
  ] as const) {
    let buf = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buf += chunk;
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      into.push(...parts);
    });
  }
  const exit = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return { child, out, err, exit };
}

/** Runs `im args` to its end. */
export async function runIm(args: string[], env: Env) {
  const p = spawnIm(args, env);
  return { code: await p.exit, out: p.out, err: p.err };
}
