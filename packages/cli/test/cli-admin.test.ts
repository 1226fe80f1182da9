/**
 * `im group`, `im room`, `im send --group / --room`, `im listen --join` and `im pull --with
 * [--before]` as a user runs them: child processes of bin/im.mjs against the embedded server with
 * its admin API (port 0). The admin secret comes from <IM_DATA_DIR>/dev-admin-secret, the file the
 * embedded server writes, and the admin URL from --admin.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { waitFor } from '../../client/test/helpers/wait.js';
import { type Env, LINE, type Proc, runIm, spawnIm } from './helpers/spawn-im.js';

let t: TestServer;
let dataDir: string;
let n = 0;
const user = (name: string) => `${name}-${process.pid}-${++n}`;

beforeAll(async () => {
  t = await startTestServer();
  dataDir = mkdtempSync(join(tmpdir(), 'im-cli-admin-'));
  writeFileSync(join(dataDir, 'dev-jwt-secret'), `${t.config.auth.jwtSecret}\n`);
  writeFileSync(join(dataDir, 'dev-admin-secret'), `${t.adminSecret}\n`);
});

afterAll(async () => {
  await t?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** What every `im` process gets: this test server, and no secret but the dev files. */
const serverEnv = (): Env => ({
  IM_JWT_SECRET: undefined,
  IM_ADMIN_SECRET: undefined,
  IM_EDGE_PORT: String(t.port),
  IM_DATA_DIR: dataDir,
});
const im = (args: string[], env: Env = {}): Proc => spawnIm(args, { ...serverEnv(), ...env });
const run = (args: string[], env: Env = {}) => runIm(args, { ...serverEnv(), ...env });

const adminFlag = () => ['--admin', t.adminUrl];

describe('im group / room / history', { timeout: 90_000 }, () => {
  it('creates a group and adds members through the admin API, sends to it, shows its history', async () => {
    const [alice, bob, carol] = [user('alice'), user('bob'), user('carol')];
    const groupId = user('team');
    const created = await run(['group', 'create', groupId, alice, bob, ...adminFlag()]);
    expect(created.err).toEqual([]);
    expect(created.out).toEqual([`group ${groupId}: 2 member(s): ${[alice, bob].sort().join(' ')}`]);
    const added = await run(['group', 'add', groupId, carol, ...adminFlag(), '--json']);
    expect(JSON.parse(added.out[0] as string)).toMatchObject({
      groupId,
      members: [alice, bob, carol].sort(),
    });

    for (const text of ['one', 'two', 'three']) {
      const sent = await run(['send', '--as', alice, '--group', groupId, text]);
      expect(sent.code).toBe(0);
      expect(sent.out[0]).toMatch(new RegExp(`^sent to group ${groupId} `));
    }
    const history = await run(['pull', '--as', carol, '--with', groupId, '--group', '--limit', '2']);
    expect(history.code).toBe(0);
    expect(history.out.map((l) => LINE.exec(l)?.[3])).toEqual(['two', 'three']);
    const older = /use --before (\d+)/.exec(history.err.at(-1) as string)?.[1] as string;
    expect(older).toMatch(/^\d+$/);
    const rest = await run(['pull', '--as', carol, '--with', groupId, '--group', '--before', older]);
    expect(rest.out.map((l) => LINE.exec(l)?.[3])).toEqual(['one']);

    const removed = await run(['group', 'remove', groupId, bob, ...adminFlag()]);
    expect(removed.out[0]).toBe(`group ${groupId}: 2 member(s): ${[alice, carol].sort().join(' ')}`);
    const refused = await run(['send', '--as', bob, '--group', groupId, 'still here?']);
    expect(refused.code).toBe(1);
    expect(refused.err[0]).toMatch(/^FORBIDDEN: /);
  });

  it('creates a room; listen --join receives what send --room sends there', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const roomId = user('live');
    const created = await run(['room', 'create', roomId, ...adminFlag()]);
    expect(created.out).toEqual([`room ${roomId}: 0 member(s) present`]);
    const listener = im(['listen', '--as', bob, '--join', roomId]);
    await waitFor(
      'listener in the room',
      () => listener.err.some((l) => l.includes(`in room(s) ${roomId}`)),
      20_000,
    );
    const shown = await run(['room', 'show', roomId, ...adminFlag()]);
    expect(shown.out).toEqual([`room ${roomId}: 1 member(s) present`]);

    const sent = await run(['send', '--as', alice, '--room', roomId, 'hello', 'room']);
    expect(sent.code).toBe(0);
    expect(sent.out[0]).toMatch(new RegExp(`^sent to room ${roomId} .*\\(seq 0,`));
    const line = await waitFor('room message', () => listener.out.find((l) => LINE.test(l)), 10_000);
    const [, from, to, text, seq] = LINE.exec(line) as RegExpExecArray;
    expect({ from, to, text, seq }).toEqual({
      from: alice,
      to: `room ${roomId}`,
      text: 'hello room',
      seq: '0',
    });
    listener.child.kill('SIGINT');
    expect(await listener.exit).toBe(0);
  });

  it('explains admin errors: an unknown group, a wrong secret, a missing secret file', async () => {
    const unknown = await run(['group', 'show', user('nope'), ...adminFlag()]);
    expect(unknown.code).toBe(1);
    expect(unknown.err[0]).toMatch(/^admin API: 404 .*unknown group/);
    const wrong = await run(['group', 'show', 'x', ...adminFlag(), '--admin-secret', 'wrong']);
    expect(wrong.err[0]).toMatch(/^admin API: 401 .*bearer/);
    const empty = mkdtempSync(join(tmpdir(), 'im-cli-nosecret-'));
    try {
      const none = await run(['room', 'create', 'r', ...adminFlag()], { IM_DATA_DIR: empty });
      expect(none.code).toBe(1);
      expect(none.err[0]).toContain(join(empty, 'dev-admin-secret'));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const usage = await run(['group', 'frobnicate', 'g', ...adminFlag()]);
    expect(usage.code).toBe(2);
  });
});
