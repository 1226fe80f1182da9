/**
 * The `im` CLI as a user runs it: child processes of bin/im.mjs against the embedded server
 * (in-process, port 0), with the dev secret read from <IM_DATA_DIR>/dev-jwt-secret.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../client/test/helpers/embedded.js';
import { waitFor } from '../../client/test/helpers/wait.js';
import { type Env, LINE, type Proc, runIm, spawnIm } from './helpers/spawn-im.js';

let t: TestServer;
let secretDir: string;
let userCounter = 0;
const user = (name: string) => `${name}-${++userCounter}`;

beforeAll(async () => {
  t = await startTestServer();
  // The file the embedded server writes when IM_JWT_SECRET is unset (services/embedded dev-secret.ts).
  secretDir = mkdtempSync(join(tmpdir(), 'im-cli-secret-'));
  writeFileSync(join(secretDir, 'dev-jwt-secret'), `${t.jwtSecret}\n`);
});

afterAll(async () => {
  await t?.stop();
  if (secretDir) rmSync(secretDir, { recursive: true, force: true });
});

/** What every `im` process gets: this test server, and no secret but the dev files. */
const serverEnv = (): Env => ({
  IM_JWT_SECRET: undefined,
  IM_EDGE_PORT: String(t.port),
  IM_DATA_DIR: secretDir,
});
const im = (args: string[], env: Env = {}, opts: { stdin?: boolean } = {}): Proc =>
  spawnIm(args, { ...serverEnv(), ...env }, opts);
const run = (args: string[], env: Env = {}) => runIm(args, { ...serverEnv(), ...env });

async function startListener(args: string[]): Promise<Proc> {
  const p = im(['listen', ...args]);
  await waitFor('listener ready', () => p.err.some((l) => l.startsWith('listening as')), 15_000);
  return p;
}

async function stopListener(p: Proc): Promise<number> {
  p.child.kill('SIGINT');
  return p.exit;
}

// Each command is a fresh node + tsx process (~1 s each).
describe('im CLI', { timeout: 60_000 }, () => {
  it('listen prints what send sends, as one readable line; send prints the ack', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const listener = await startListener(['--as', bob]);
    const sent = await run(['send', '--as', alice, bob, 'hello', 'there']);
    expect(sent.err).toEqual([]);
    expect(sent.code).toBe(0);
    expect(sent.out[0]).toMatch(
      new RegExp(`^sent to ${bob} at \\d\\d:\\d\\d:\\d\\d {2}\\(seq 1, uid \\d+, messageId \\d+\\)$`),
    );
    const uid = /uid (\d+)/.exec(sent.out[0] as string)?.[1];

    const line = await waitFor('printed message', () => listener.out.find((l) => LINE.test(l)));
    const [, from, to, text, seq, gotUid] = LINE.exec(line) as RegExpExecArray;
    expect({ from, to, text, seq, uid: gotUid }).toEqual({
      from: alice,
      to: bob,
      text: 'hello there',
      seq: '1',
      uid,
    });
    expect(await stopListener(listener)).toBe(0);
  });

  it('listen --json prints one JSON object per line, bigints as strings', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const listener = await startListener(['--as', bob, '--json', '--device', 'json-dev']);
    const sent = await run(['send', '--as', alice, '--json', bob, 'json please']);
    expect(sent.code).toBe(0);
    const ack = JSON.parse(sent.out[0] as string) as { messageUid: string; seq: number };
    expect(ack.messageUid).toMatch(/^\d+$/);
    const line = await waitFor('json line', () => listener.out[0]);
    const m = JSON.parse(line) as { from: string; messageUid: string; text: string; seq: number };
    expect(m).toMatchObject({ from: alice, messageUid: ack.messageUid, text: 'json please', seq: 1 });
    expect(await stopListener(listener)).toBe(0);
  });

  it('a second listen on the same device kicks the first, which exits with the reason', async () => {
    const bob = user('bob');
    const first = await startListener(['--as', bob, '--device', 'same']);
    const second = await startListener(['--as', bob, '--device', 'same']);
    expect(await first.exit).toBe(1);
    expect(first.err.at(-1)).toMatch(/^kicked: /);
    expect(await stopListener(second)).toBe(0);
  });

  it('pull lists the inbox and --with a conversation history; recall wipes and announces', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const first = await run(['send', '--as', alice, bob, 'first']);
    await run(['send', '--as', alice, bob, 'second']);
    const uid = /uid (\d+)/.exec(first.out[0] as string)?.[1] as string;

    const inbox = await run(['pull', '--as', bob, '--since', '0']);
    expect(inbox.code).toBe(0);
    expect(inbox.out.map((l) => LINE.exec(l)?.[3])).toEqual(['first', 'second']);
    expect(inbox.err.at(-1)).toBe('2 message(s), inbox head 2');

    const later = await run(['pull', '--as', bob, '--since', '1']);
    expect(later.out.map((l) => LINE.exec(l)?.[3])).toEqual(['second']);

    const history = await run(['pull', '--as', alice, '--with', bob]);
    expect(history.out.map((l) => LINE.exec(l)?.[3])).toEqual(['first', 'second']);

    const denied = await run(['recall', '--as', bob, uid]);
    expect(denied.code).toBe(1);
    expect(denied.err[0]).toMatch(/^FORBIDDEN: /);

    const recalled = await run(['recall', '--as', alice, uid]);
    expect(recalled.code).toBe(0);
    expect(recalled.out).toEqual([`recalled ${uid}`]);
    const after = await run(['pull', '--as', bob]);
    expect(after.out.map((l) => LINE.exec(l)?.[3])).toEqual([
      '[recalled]',
      'second',
      `[recalled message ${uid}]`,
    ]);
  });

  it('--rsa logs in with RSA (2) and a fresh clientTime (protocol.md §2), and delivers', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const keyFile = join(secretDir, 'server-public.pem');
    writeFileSync(keyFile, t.server.serverKeys?.publicKeyPem as string);
    const listener = await startListener(['--as', bob, '--rsa', '--server-key', keyFile]);
    const sent = await run(['send', '--as', alice, '--rsa', '--server-key', keyFile, bob, 'sealed hi']);
    expect(sent.err).toEqual([]);
    expect(sent.code).toBe(0);
    const line = await waitFor('printed message', () => listener.out.find((l) => LINE.test(l)));
    expect(LINE.exec(line)?.[3]).toBe('sealed hi');
    expect(await stopListener(listener)).toBe(0);
  });

  it('token prints an HS256 token for the user that the server accepts', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const res = await run(['token', alice, '--ttl', '2h']);
    expect(res.code).toBe(0);
    const jwt = res.out[0] as string;
    const claims = decodeJwt(jwt);
    expect(claims.sub).toBe(alice);
    expect((claims.exp as number) - (claims.iat as number)).toBe(7200);
    // The secret from the env wins over the file; here they are the same, so the token works.
    const sent = await run(['send', '--as', alice, '--token', jwt, bob, 'with a token'], {
      IM_DATA_DIR: '/nonexistent',
    });
    expect(sent.code).toBe(0);
  });

  it('says clearly when nothing listens on the port', async () => {
    const port = await freePort();
    const res = await run(['send', '--as', 'alice', '--port', String(port), 'bob', 'hi']);
    expect(res.code).not.toBe(0);
    expect(res.err).toEqual([
      `cannot connect to 127.0.0.1:${port} — is the server running? start it with: pnpm start`,
    ]);
  });

  it('reports a refused token with the UNAUTHORIZED reason', async () => {
    const res = await run(['listen', '--as', 'bob', '--token', 'garbage']);
    expect(res.code).toBe(1);
    expect(res.err).toHaveLength(1);
    expect(res.err[0]).toMatch(/^UNAUTHORIZED: \S.* — check --token/);

    const wrong = await run(['send', '--as', 'bob', 'alice', 'hi'], { IM_JWT_SECRET: 'another-secret' });
    expect(wrong.code).toBe(1);
    expect(wrong.err[0]).toMatch(/^UNAUTHORIZED: token signature invalid/);
  });

  it('reports an unknown target and usage errors', async () => {
    const res = await run(['send', '--as', 'alice', '--group', 'no-such-group', 'hi']);
    expect(res.code).toBe(1);
    expect(res.err[0]).toMatch(/^(NOT_FOUND|FORBIDDEN): /);

    const usage = await run(['send', '--as', 'alice', 'bob']);
    expect(usage.code).toBe(2);
    expect(usage.err[0]).toBe('expected <to> and <text...>');
    expect(usage.err[1]).toMatch(/^usage: im send/);

    const unknown = await run(['send', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.err[0]).toMatch(/bogus/);
  });

  it('chat: typed lines are sent, incoming ones printed; /history, /recall, /quit', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const listener = await startListener(['--as', bob]);
    const chat = im(['chat', '--as', alice, bob], {}, { stdin: true });
    const type = (line: string) => chat.child.stdin?.write(`${line}\n`);
    await waitFor(
      'chat ready',
      () => chat.err.some((l) => l.startsWith(`chatting with ${bob} as ${alice}`)),
      15_000,
    );

    type('hello bob');
    const sent = await waitFor('sent line', () => chat.out.find((l) => LINE.exec(l)?.[3] === 'hello bob'));
    const [, from, to, , , uid] = LINE.exec(sent) as RegExpExecArray;
    expect({ from, to }).toEqual({ from: alice, to: bob });
    const got = await waitFor('bob got it', () =>
      listener.out.find((l) => LINE.exec(l)?.[3] === 'hello bob'),
    );
    expect(LINE.exec(got)?.[5]).toBe(uid);

    // bob answers from another process: the chat prints it as it arrives.
    expect((await run(['send', '--as', bob, alice, 'hi alice'])).code).toBe(0);
    await waitFor('incoming printed', () => chat.out.find((l) => LINE.exec(l)?.[3] === 'hi alice'));

    const before = chat.out.length;
    type('/history');
    await waitFor('history summary', () => chat.err.find((l) => l === `2 message(s) of ${bob}`));
    expect(chat.out.slice(before).map((l) => LINE.exec(l)?.[3])).toEqual(['hello bob', 'hi alice']);

    type('/recall');
    await waitFor('recalled', () => chat.out.includes(`recalled ${uid}`));
    await waitFor('bob sees the recall', () =>
      listener.out.some((l) => l.includes(`[recalled message ${uid}]`)),
    );

    type('/bogus');
    await waitFor('unknown command reported', () =>
      chat.err.some((l) => l.startsWith('unknown command /bogus')),
    );
    type('/quit');
    expect(await chat.exit).toBe(0);
    expect(await stopListener(listener)).toBe(0);
  });

  it('chat ends cleanly when its input ends, and --help works without a server', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const chat = im(['chat', '--as', alice, bob], {}, { stdin: true });
    await waitFor('chat ready', () => chat.err.some((l) => l.startsWith('chatting with')), 15_000);
    chat.child.stdin?.end();
    expect(await chat.exit).toBe(0);

    const help = await run(['send', '--help'], { IM_EDGE_PORT: '1' });
    expect(help.code).toBe(0);
    expect(help.out[0]).toBe('im send — send one message and print the SendAck');
  });

  it('explains where the dev secret comes from when there is none', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'im-cli-empty-'));
    try {
      const res = await run(['token', 'alice'], { IM_DATA_DIR: empty });
      expect(res.code).toBe(1);
      expect(res.err[0]).toContain('no development secret: set IM_JWT_SECRET');
      expect(res.err[0]).toContain(join(empty, 'dev-jwt-secret'));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

/** A port that was free a moment ago (nothing listens on it now). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
