import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, isPretty } from '../src/log.js';
import { prettyLine } from '../src/log.pretty.js';

describe('createLogger', () => {
  it('redacts tokens, secrets, passwords and authorization headers', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger('test', 'info', sink);
    log.info(
      {
        token: 'tok-1',
        login: { token: 'tok-2', userId: 'alice' },
        config: { auth: { jwtSecret: 'sec-1' }, admin: { secret: 'sec-2' } },
        password: 'pw-1',
        req: { headers: { authorization: 'Bearer tok-3' } },
      },
      'hello',
    );
    log.debug({ token: 'tok-4' }, 'below level');
    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    for (const s of ['tok-1', 'tok-2', 'tok-3', 'sec-1', 'sec-2', 'pw-1']) expect(line).not.toContain(s);
    const rec = JSON.parse(line);
    expect(rec).toMatchObject({
      name: 'test',
      msg: 'hello',
      login: { userId: 'alice', token: '[redacted]' },
    });
  });
});

/** A sink that collects what the logger writes, and may pass for a terminal. */
function sink(isTTY?: boolean) {
  const lines: string[] = [];
  const out = Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
    { isTTY },
  );
  return { out, lines };
}

describe('log format (LOG_FORMAT)', () => {
  it('pretty: one readable line per record, fields as key=value, still redacted', () => {
    const { out, lines } = sink();
    const log = createLogger('edge', { logLevel: 'info', logFormat: 'pretty' }, out);
    log.info({ userId: 'alice', epoch: 3, token: 'tok-SECRET', note: 'two words' }, 'logged in');
    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}edge: logged in {2}userId=alice epoch=3 token=\[redacted\] note="two words"\n$/,
    );
    expect(line).not.toContain('tok-SECRET');
    expect(line).not.toContain('\x1b['); // not a terminal: no colors
  });

  it('pretty: an error prints its message and its stack indented below', () => {
    const { out, lines } = sink();
    const log = createLogger('edge', { logLevel: 'info', logFormat: 'pretty' }, out);
    log.error({ err: new Error('boom') }, 'delivery handler failed');
    const [head, ...stack] = (lines[0] as string).trimEnd().split('\n');
    expect(head).toMatch(/ ERROR edge: delivery handler failed$/);
    expect(stack[0]).toBe('    Error: boom');
    expect(stack[1]).toMatch(/^ {8}at /);
  });

  it('auto: pretty (with colors) on a terminal, JSON anywhere else; json: always JSON', () => {
    const tty = sink(true);
    createLogger('a', { logLevel: 'info', logFormat: 'auto' }, tty.out).info('hi');
    expect(tty.lines[0]).toContain('\x1b[32mINFO \x1b[0m a: hi');
    const pipe = sink(false);
    createLogger('a', { logLevel: 'info', logFormat: 'auto' }, pipe.out).info('hi');
    expect(JSON.parse(pipe.lines[0] as string)).toMatchObject({ name: 'a', msg: 'hi' });
    const json = sink(true);
    createLogger('a', { logLevel: 'info', logFormat: 'json' }, json.out).info('hi');
    expect(JSON.parse(json.lines[0] as string)).toMatchObject({ msg: 'hi' });
    expect(isPretty('auto', {})).toBe(false);
  });

  it('passes through a line that is not JSON', () => {
    expect(prettyLine('not json', false)).toBe('not json\n');
  });
});
