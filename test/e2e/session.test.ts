/**
 * protocol.md §4 LOGIN / LOGOUT / PING and §6 Session over real TCP against the embedded server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Command,
  codec,
  Flow,
  PROTOCOL_VERSION,
  Status,
  unpackFlag,
} from '../../packages/protocol/src/index.js';
import {
  connectAs,
  errorOf,
  expectStatus,
  loginBody,
  nextPush,
  sendOk,
  textMessage,
  uniqueUser,
} from '../support/im.js';
import { isResponse, RawClient } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
const clients: RawClient[] = [];

async function raw(): Promise<RawClient> {
  const c = await RawClient.connect(srv.port);
  clients.push(c);
  return c;
}

async function online(userId: string, deviceId = 'd1') {
  const r = await connectAs(srv.port, await srv.identity(userId, deviceId));
  clients.push(r.c);
  return r;
}

beforeAll(async () => {
  srv = await startTestServer({ edge: { heartbeatSeconds: 25 } });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await srv?.close();
});

describe('LOGIN (protocol.md §4, §5 LoginResponse)', () => {
  it('answers with flow 1, the request seq and command, and a LoginResponse', async () => {
    const c = await raw();
    const id = await srv.identity(uniqueUser('login'));
    const before = Date.now();
    const res = await c.request({ command: Command.LOGIN, body: loginBody(id), seq: 77 });
    expect(res.version).toBe(PROTOCOL_VERSION);
    expect(res.seq).toBe(77);
    expect(res.command).toBe(Command.LOGIN);
    expect(unpackFlag(res.flag)).toEqual({ reserved: 0, compression: 0, encrypt: 0, flow: Flow.RESPONSE });
    expectStatus(res, Status.OK);
    const body = codec.LoginResponse.decode(res.body);
    expect(body.heartbeatSeconds).toBe(25);
    expect(body.head).toBe(0);
    expect(body.sessionId.length).toBeGreaterThan(0);
    expect(body.serverTime).toBeGreaterThanOrEqual(before - 1000);
    expect(body.serverTime).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('PING after LOGIN: empty OK response', async () => {
    const { c } = await online(uniqueUser('ping'));
    const res = await c.request({ command: Command.PING });
    expectStatus(res, Status.OK);
    expect(res.body.length).toBe(0);
  });

  it('a bad token is UNAUTHORIZED with a reason; the connection stays open for another try', async () => {
    const c = await raw();
    const id = await srv.identity(uniqueUser('badtoken'));
    const bad = await c.request({
      command: Command.LOGIN,
      body: loginBody({ ...id, token: `${id.token}x` }),
    });
    expectStatus(bad, Status.UNAUTHORIZED);
    expect(errorOf(bad).message).toMatch(/token/);
    // A token for another user is refused too (sub must equal userId).
    const other = await srv.identity(uniqueUser('other'));
    const wrongUser = await c.request({
      command: Command.LOGIN,
      body: loginBody({ ...id, token: other.token }),
    });
    expectStatus(wrongUser, Status.UNAUTHORIZED);
    expectStatus(await c.request({ command: Command.LOGIN, body: loginBody(id) }), Status.OK);
    expectStatus(await c.request({ command: Command.PING }), Status.OK);
  });

  it('an empty userId or deviceId is BAD_REQUEST with a reason', async () => {
    const c = await raw();
    const id = await srv.identity(uniqueUser('empty'));
    const noDevice = await c.request({ command: Command.LOGIN, body: loginBody({ ...id, deviceId: '' }) });
    expectStatus(noDevice, Status.BAD_REQUEST);
    expect(errorOf(noDevice).message).toMatch(/deviceId/);
    const noUser = await c.request({ command: Command.LOGIN, body: loginBody({ ...id, userId: '' }) });
    expectStatus(noUser, Status.BAD_REQUEST);
    expect(errorOf(noUser).message).toMatch(/userId/);
  });

  it('a second LOGIN on a logged-in connection is BAD_REQUEST, then the connection closes', async () => {
    const id = await srv.identity(uniqueUser('twice'));
    const { c } = await online(id.userId);
    const res = await c.request({ command: Command.LOGIN, body: loginBody(id) });
    expectStatus(res, Status.BAD_REQUEST);
    expect(errorOf(res).message.length).toBeGreaterThan(0);
    expect(await c.closedWithin(2000)).toBe(true);
    // The user can still log in on a fresh connection.
    const again = await online(id.userId);
    expectStatus(await again.c.request({ command: Command.PING }), Status.OK);
  });
});

describe('before LOGIN (protocol.md §6 Session)', () => {
  it('each of the first three commands is answered UNAUTHORIZED; the connection closes after the third', async () => {
    const c = await raw();
    const commands = [Command.PING, Command.MS, Command.MP];
    for (const [i, command] of commands.entries()) {
      const res = await c.request({ command });
      expectStatus(res, Status.UNAUTHORIZED);
      expect(errorOf(res).message.length).toBeGreaterThan(0);
      if (i < 2) expect(c.isClosed).toBe(false);
    }
    expect(await c.closedWithin(2000)).toBe(true);
  });

  it('failed LOGINs count toward the three', async () => {
    const c = await raw();
    const id = await srv.identity(uniqueUser('strikes'));
    expectStatus(
      await c.request({ command: Command.LOGIN, body: loginBody({ ...id, token: 'nope' }) }),
      Status.UNAUTHORIZED,
    );
    expectStatus(
      await c.request({ command: Command.LOGIN, body: loginBody({ ...id, token: 'nope' }) }),
      Status.UNAUTHORIZED,
    );
    expect(c.isClosed).toBe(false);
    expectStatus(await c.request({ command: Command.PING }), Status.UNAUTHORIZED);
    expect(await c.closedWithin(2000)).toBe(true);
  });

  it('LOGOUT before LOGIN: no response, the connection closes', async () => {
    const c = await raw();
    c.send({ command: Command.LOGOUT });
    expect(await c.closedWithin(2000)).toBe(true);
    expect(c.received).toEqual([]);
  });
});

describe('LOGOUT (protocol.md §4)', () => {
  it('no response; the route is removed and the connection closes', async () => {
    const userId = uniqueUser('logout');
    const { c } = await online(userId);
    expect((await srv.server.presence.devices(userId)).map((r) => r.deviceId)).toEqual(['d1']);
    c.send({ command: Command.LOGOUT });
    expect(await c.closedWithin(2000)).toBe(true);
    expect(c.received.filter(isResponse).map((f) => f.command)).toEqual([Command.LOGIN]);
    expect(await srv.server.presence.devices(userId)).toEqual([]);
  });

  it('a closed connection (no LOGOUT) also gives its route back', async () => {
    const userId = uniqueUser('drop');
    const { c } = await online(userId);
    c.close();
    await expect.poll(() => srv.server.presence.devices(userId)).toEqual([]);
  });
});

describe('second LOGIN of the same (user, device) elsewhere wins (protocol.md §6 Session)', () => {
  it('the old connection gets a LOGOUT notify with KICKED and is closed; the new one works', async () => {
    const bob = uniqueUser('kick');
    const alice = uniqueUser('kicker');
    const old = await online(bob, 'phone');
    const fresh = await online(bob, 'phone');

    const kick = await old.c.next((f) => f.command === Command.LOGOUT);
    expect(kick.status).toBe(Status.KICKED);
    expect(unpackFlag(kick.flag).flow).toBe(Flow.NOTIFY);
    expect(kick.seq).toBe(1); // the old connection's first notify
    expect(errorOf(kick).message).toMatch(/elsewhere/);
    expect(await old.c.closedWithin(2000)).toBe(true);

    // The route belongs to the new connection: the old one's cleanup did not remove it.
    const routes = await srv.server.presence.devices(bob);
    expect(routes.map((r) => r.deviceId)).toEqual(['phone']);
    expectStatus(await fresh.c.request({ command: Command.PING }), Status.OK);
    const a = await online(alice);
    const ack = await sendOk(a.c, textMessage(bob, 'after kick'));
    const { message } = await nextPush(fresh.c);
    expect(message.messageUid).toBe(ack.messageUid);
  });

  it('different devices of one user are online at once', async () => {
    const userId = uniqueUser('multi');
    const phone = await online(userId, 'phone');
    const laptop = await online(userId, 'laptop');
    const devices = (await srv.server.presence.devices(userId)).map((r) => r.deviceId).sort();
    expect(devices).toEqual(['laptop', 'phone']);
    expectStatus(await phone.c.request({ command: Command.PING }), Status.OK);
    expectStatus(await laptop.c.request({ command: Command.PING }), Status.OK);
    expect(phone.c.pending((f) => f.command === Command.LOGOUT)).toEqual([]);
  });
});

describe('framing as a stream (protocol.md §1)', () => {
  it('several frames in one write and one frame split over writes are all answered, in order', async () => {
    const id = await srv.identity(uniqueUser('stream'));
    const c = await raw();
    const { frameToBytes } = await import('../../packages/protocol/src/index.js');
    const login = frameToBytes({ seq: 1, command: Command.LOGIN, flag: 0, status: 0, body: loginBody(id) });
    const ping2 = frameToBytes({
      seq: 2,
      command: Command.PING,
      flag: 0,
      status: 0,
      body: new Uint8Array(0),
    });
    const ping3 = frameToBytes({
      seq: 3,
      command: Command.PING,
      flag: 0,
      status: 0,
      body: new Uint8Array(0),
    });
    const all = Buffer.concat([login, ping2, ping3]);
    // Split at an odd place in the middle of the LOGIN body, then everything else in one chunk.
    c.write(all.subarray(0, 17));
    await new Promise((r) => setTimeout(r, 30));
    c.write(all.subarray(17));
    const frames = [await c.next(), await c.next(), await c.next()];
    expect(frames.map((f) => [f.seq, f.command, f.status])).toEqual([
      [1, Command.LOGIN, Status.OK],
      [2, Command.PING, Status.OK],
      [3, Command.PING, Status.OK],
    ]);
  });

  it('hundreds of pipelined requests in one write are all answered, in order', async () => {
    const { c } = await online(uniqueUser('pipeline'));
    const { frameToBytes } = await import('../../packages/protocol/src/index.js');
    const n = 300;
    const frames = Array.from({ length: n }, (_, i) =>
      frameToBytes({ seq: 1000 + i, command: Command.PING, flag: 0, status: 0, body: new Uint8Array(0) }),
    );
    c.write(Buffer.concat(frames));
    const seqs: number[] = [];
    for (let i = 0; i < n; i++) seqs.push((await c.next((f) => f.command === Command.PING)).seq);
    expect(seqs).toEqual(Array.from({ length: n }, (_, i) => 1000 + i));
  });
});
