import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';

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
