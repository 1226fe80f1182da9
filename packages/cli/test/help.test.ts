/** `im <command> --help` for every command, and `im help` (in-process: cli.ts run()). */
import { describe, expect, it } from 'vitest';
import { COMMANDS, run } from '../src/cli.js';

async function im(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, {}, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('im help', () => {
  it('has every command of the README', () => {
    expect(Object.keys(COMMANDS).sort()).toEqual(
      ['chat', 'group', 'listen', 'pull', 'recall', 'room', 'send', 'server-key', 'token'].sort(),
    );
  });

  it.each(Object.keys(COMMANDS))('im %s --help prints its page on stdout, exit 0', async (name) => {
    const spec = COMMANDS[name];
    const res = await im([name, '--help']);
    expect(res.code).toBe(0);
    expect(res.err).toBe('');
    const lines = res.out.split('\n');
    expect(lines[0]).toBe(`im ${name} — ${spec?.summary}`);
    expect(lines).toContain(`usage: ${spec?.usage}`);
    // Every option the command accepts is explained on its page.
    for (const option of Object.keys(spec?.options ?? {})) expect(res.out).toContain(`--${option}`);
    // The same page by `-h`, by `im help <name>`, and with other (even wrong) flags around it.
    expect((await im([name, '-h'])).out).toBe(res.out);
    expect((await im(['help', name])).out).toBe(res.out);
    expect((await im([name, '--bogus', 'x', '--help'])).out).toBe(res.out);
  });

  it('im help and im --help list every command with its summary; no command is usage (exit 2)', async () => {
    const res = await im(['help']);
    expect(res.code).toBe(0);
    const lines = res.out.split('\n');
    for (const [name, spec] of Object.entries(COMMANDS)) {
      expect(lines.filter((l) => l.startsWith(`  ${name} `) && l.endsWith(`  ${spec.summary}`))).toHaveLength(
        1,
      );
    }
    expect((await im(['--help'])).out).toBe(res.out);
    const none = await im([]);
    expect(none.code).toBe(2);
    expect(none.err).toBe(res.out);
  });

  it('an unknown command or help topic is exit 2 with the list', async () => {
    for (const argv of [['frob'], ['help', 'frob']]) {
      const res = await im(argv);
      expect(res.code).toBe(2);
      expect(res.err).toMatch(/^unknown command "frob"\nusage: im <command>/);
    }
  });

  it('a usage error points at the --help page', async () => {
    const res = await im(['send', '--as', 'alice', 'bob']);
    expect(res.code).toBe(2);
    expect(res.err.split('\n')).toEqual([
      'expected <to> and <text...>',
      `usage: ${COMMANDS.send?.usage}  (im send --help)`,
    ]);
  });
});
