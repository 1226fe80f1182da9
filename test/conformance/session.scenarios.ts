/**
 * protocol.md §4 LOGIN / LOGOUT / PING, §1 framing as a stream, and §6 Session. Where a scenario
 * involves two connections of one user, they are on different edges when the target has several.
 */
import { describe, expect, it } from 'vitest';
import {
  Command,
  codec,
  Flow,
  frameToBytes,
  PROTOCOL_VERSION,
  Status,
  unpackFlag,
} from '../../packages/protocol/src/index.js';
import { errorOf, expectStatus, loginBody, sendOk, sleep, textMessage, uniqueUser } from '../support/im.js';
import { isResponse } from '../support/raw-client.js';
import type { Harness } from './harness.js';
import { CONFORMANCE_SETTINGS } from './target.js';

export function sessionScenarios(h: () => Harness): void {
  describe('LOGIN (protocol.md §4, §5 LoginResponse)', () => {
    it('answers with flow 1, the request seq and command, and a LoginResponse', async () => {
      const c = await h().raw();
      const id = await h().identity(uniqueUser('login'));
      const before = Date.now();
      const res = await c.request({ command: Command.LOGIN, body: loginBody(id), seq: 77 });
      expect(res.version).toBe(PROTOCOL_VERSION);
      expect(res.seq).toBe(77);
      expect(res.command).toBe(Command.LOGIN);
      expect(unpackFlag(res.flag)).toEqual({ reserved: 0, compression: 0, encrypt: 0, flow: Flow.RESPONSE });
      expectStatus(res, Status.OK);
      const body = codec.LoginResponse.decode(res.body);
      expect(body.heartbeatSeconds).toBe(CONFORMANCE_SETTINGS.heartbeatSeconds);
      expect(body.head).toBe(0);
      expect(body.sessionId.length).toBeGreaterThan(0);
      expect(body.serverTime).toBeGreaterThanOrEqual(before - 1000);
      expect(body.serverTime).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('PING after LOGIN: empty OK response', async () => {
      const { c } = await h().online(uniqueUser('ping'));
      const res = await c.request({ command: Command.PING });
      expectStatus(res, Status.OK);
      expect(res.body.length).toBe(0);
    });

    it('a bad token is UNAUTHORIZED with a reason; the connection stays open for another try', async () => {
      const c = await h().raw();
      const id = await h().identity(uniqueUser('badtoken'));
      const bad = await c.request({
        command: Command.LOGIN,
        body: loginBody({ ...id, token: `${id.token}x` }),
      });
      expectStatus(bad, Status.UNAUTHORIZED);
      expect(errorOf(bad).message).toMatch(/token/);
      // A token for another user is refused too (sub must equal userId).
      const other = await h().identity(uniqueUser('other'));
      const wrongUser = await c.request({
        command: Command.LOGIN,
        body: loginBody({ ...id, token: other.token }),
      });
      expectStatus(wrongUser, Status.UNAUTHORIZED);
      expectStatus(await c.request({ command: Command.LOGIN, body: loginBody(id) }), Status.OK);
      expectStatus(await c.request({ command: Command.PING }), Status.OK);
    });

    it('an empty userId or deviceId is BAD_REQUEST with a reason', async () => {
      const c = await h().raw();
      const id = await h().identity(uniqueUser('empty'));
      const noDevice = await c.request({ command: Command.LOGIN, body: loginBody({ ...id, deviceId: '' }) });
      expectStatus(noDevice, Status.BAD_REQUEST);
      expect(errorOf(noDevice).message).toMatch(/deviceId/);
      const noUser = await c.request({ command: Command.LOGIN, body: loginBody({ ...id, userId: '' }) });
      expectStatus(noUser, Status.BAD_REQUEST);
      expect(errorOf(noUser).message).toMatch(/userId/);
    });

    it('a second LOGIN on a logged-in connection is BAD_REQUEST, then the connection closes', async () => {
      const id = await h().identity(uniqueUser('twice'));
      const { c } = await h().online(id.userId);
      const res = await c.request({ command: Command.LOGIN, body: loginBody(id) });
      expectStatus(res, Status.BAD_REQUEST);
      expect(errorOf(res).message.length).toBeGreaterThan(0);
      expect(await c.closedWithin(2000)).toBe(true);
      // The user can still log in on a fresh connection.
      const again = await h().online(id.userId);
      expectStatus(await again.c.request({ command: Command.PING }), Status.OK);
    });
  });

  describe('before LOGIN (protocol.md §6 Session)', () => {
    it('each of the first three commands is answered UNAUTHORIZED; the connection closes after the third', async () => {
      const c = await h().raw();
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
      const c = await h().raw();
      const id = await h().identity(uniqueUser('strikes'));
      for (let i = 0; i < 2; i++) {
        expectStatus(
          await c.request({ command: Command.LOGIN, body: loginBody({ ...id, token: 'nope' }) }),
          Status.UNAUTHORIZED,
        );
      }
      expect(c.isClosed).toBe(false);
      expectStatus(await c.request({ command: Command.PING }), Status.UNAUTHORIZED);
      expect(await c.closedWithin(2000)).toBe(true);
    });

    it('LOGOUT before LOGIN: no response, the connection closes', async () => {
      const c = await h().raw();
      c.send({ command: Command.LOGOUT });
      expect(await c.closedWithin(2000)).toBe(true);
      expect(c.received).toEqual([]);
    });
  });

  describe('LOGOUT (protocol.md §4)', () => {
    it('no response; the route is removed and the connection closes', async (ctx) => {
      const devices = h().target.devices?.bind(h().target);
      if (!devices) return ctx.skip('the target does not expose routes');
      const userId = uniqueUser('logout');
      const { c } = await h().online(userId);
      expect(await devices(userId)).toEqual(['d1']);
      c.send({ command: Command.LOGOUT });
      expect(await c.closedWithin(2000)).toBe(true);
      expect(c.received.filter(isResponse).map((f) => f.command)).toEqual([Command.LOGIN]);
      expect(await devices(userId)).toEqual([]);
    });

    it('a closed connection (no LOGOUT) also gives its route back', async (ctx) => {
      const devices = h().target.devices?.bind(h().target);
      if (!devices) return ctx.skip('the target does not expose routes');
      const userId = uniqueUser('drop');
      const { c } = await h().online(userId);
      c.close();
      await expect.poll(() => devices(userId), { timeout: 5_000 }).toEqual([]);
    });

    it('after LOGOUT the device gets nothing live; the message waits in the inbox', async () => {
      const bob = uniqueUser('loggedout');
      const { c } = await h().online(bob, 'd1', 0);
      c.send({ command: Command.LOGOUT });
      expect(await c.closedWithin(2000)).toBe(true);
      const a = await h().online(uniqueUser('alice'), 'd1', 1);
      const ack = await sendOk(a.c, textMessage(bob, 'while away'));
      const back = await h().online(bob, 'd1', 1);
      expect(back.login.head).toBe(1);
      expect(ack.seq).toBe(1);
    });
  });

  describe('second LOGIN of the same (user, device) elsewhere wins (protocol.md §6 Session)', () => {
    it('the old connection gets a LOGOUT notify with KICKED and is closed; the new one works', async () => {
      const bob = uniqueUser('kick');
      const old = await h().online(bob, 'phone', 0);
      const fresh = await h().online(bob, 'phone', 1);

      const kick = await old.c.next((f) => f.command === Command.LOGOUT, h().deliveryMs);
      expect(kick.status).toBe(Status.KICKED);
      expect(unpackFlag(kick.flag).flow).toBe(Flow.NOTIFY);
      expect(kick.seq).toBe(1); // the old connection's first notify
      expect(errorOf(kick).message).toMatch(/elsewhere/);
      expect(await old.c.closedWithin(2000)).toBe(true);

      // The route belongs to the new connection: the old one's cleanup did not remove it.
      const devices = h().target.devices?.bind(h().target);
      if (devices) {
        await sleep(200);
        expect(await devices(bob)).toEqual(['phone']);
      }
      expectStatus(await fresh.c.request({ command: Command.PING }), Status.OK);
      const a = await h().online(uniqueUser('kicker'), 'd1', 0);
      const ack = await sendOk(a.c, textMessage(bob, 'after kick'));
      expect((await h().push(fresh.c)).message.messageUid).toBe(ack.messageUid);
      expect(old.c.received.filter((f) => f.command === Command.MPS)).toEqual([]);
    });

    it('different devices of one user are online at once', async () => {
      const userId = uniqueUser('multi');
      const phone = await h().online(userId, 'phone', 0);
      const laptop = await h().online(userId, 'laptop', 1);
      const devices = h().target.devices?.bind(h().target);
      if (devices) expect(await devices(userId)).toEqual(['laptop', 'phone']);
      expectStatus(await phone.c.request({ command: Command.PING }), Status.OK);
      expectStatus(await laptop.c.request({ command: Command.PING }), Status.OK);
      expect(await h().noPush(phone.c)).toBe(true);
      expect(phone.c.pending((f) => f.command === Command.LOGOUT)).toEqual([]);
      expect(phone.c.isClosed).toBe(false);
    });
  });

  describe('framing as a stream (protocol.md §1)', () => {
    const empty = new Uint8Array(0);

    it('several frames in one write and one frame split over writes are all answered, in order', async (ctx) => {
      if (h().transport !== 'tcp') return ctx.skip('TCP only: over WebSocket a message is one frame');
      const id = await h().identity(uniqueUser('stream'));
      const c = await h().raw();
      const login = frameToBytes({ seq: 1, command: Command.LOGIN, flag: 0, status: 0, body: loginBody(id) });
      const ping2 = frameToBytes({ seq: 2, command: Command.PING, flag: 0, status: 0, body: empty });
      const ping3 = frameToBytes({ seq: 3, command: Command.PING, flag: 0, status: 0, body: empty });
      const all = Buffer.concat([login, ping2, ping3]);
      // Split at an odd place in the middle of the LOGIN body, then everything else in one chunk.
      c.write(all.subarray(0, 17));
      await sleep(30);
      c.write(all.subarray(17));
      const frames = [await c.next(), await c.next(), await c.next()];
      expect(frames.map((f) => [f.seq, f.command, f.status])).toEqual([
        [1, Command.LOGIN, Status.OK],
        [2, Command.PING, Status.OK],
        [3, Command.PING, Status.OK],
      ]);
    });

    it('hundreds of pipelined requests in one write (WebSocket: back-to-back messages) are all answered, in order', async () => {
      const { c } = await h().online(uniqueUser('pipeline'));
      const n = 300;
      const frames = Array.from({ length: n }, (_, i) =>
        frameToBytes({ seq: 1000 + i, command: Command.PING, flag: 0, status: 0, body: empty }),
      );
      if (c.transport === 'tcp') c.write(Buffer.concat(frames));
      else for (const f of frames) c.write(f);
      const seqs: number[] = [];
      for (let i = 0; i < n; i++) seqs.push((await c.next((f) => f.command === Command.PING)).seq);
      expect(seqs).toEqual(Array.from({ length: n }, (_, i) => 1000 + i));
    });
  });

  describe('framing as messages (protocol.md §1 WebSocket transport)', () => {
    const ping = (seq: number) =>
      frameToBytes({ seq, command: Command.PING, flag: 0, status: 0, body: new Uint8Array(0) });

    /** The one BAD_REQUEST a refused message gets, then the close. */
    const refused = async (c: Awaited<ReturnType<Harness['raw']>>, seq: number, command: number) => {
      const res = await c.next();
      expect([res.seq, res.command, unpackFlag(res.flag).flow]).toEqual([seq, command, Flow.RESPONSE]);
      expectStatus(res, Status.BAD_REQUEST);
      expect(await c.closedWithin(2000)).toBe(true);
      return errorOf(res).message;
    };

    it('a frame split over two messages: BAD_REQUEST, then closed', async (ctx) => {
      if (h().transport !== 'ws') return ctx.skip('WebSocket only');
      const { c } = await h().online(uniqueUser('ws-split'));
      const frame = frameToBytes({
        seq: 7,
        command: Command.MS,
        flag: 0,
        status: 0,
        body: codec.Message.encode(textMessage('someone', 'half a frame')),
      });
      c.write(frame.subarray(0, 17));
      expect(await refused(c, 7, Command.MS)).toMatch(/exactly one frame/);
    });

    it('two frames in one message: BAD_REQUEST for the first, neither handled, then closed', async (ctx) => {
      if (h().transport !== 'ws') return ctx.skip('WebSocket only');
      const { c } = await h().online(uniqueUser('ws-two'));
      c.write(Buffer.concat([ping(8), ping(9)]));
      expect(await refused(c, 8, Command.PING)).toMatch(/exactly one frame/);
      expect(c.received.filter((f) => f.seq === 9)).toEqual([]);
    });

    it('a message shorter than a header: BAD_REQUEST (seq 0), then closed', async (ctx) => {
      if (h().transport !== 'ws') return ctx.skip('WebSocket only');
      const { c } = await h().online(uniqueUser('ws-short'));
      c.write(Uint8Array.of(0, 0, 0));
      expect(await refused(c, 0, 0)).toMatch(/exactly one frame/);
    });

    it('a text message: BAD_REQUEST (seq 0), then closed', async (ctx) => {
      if (h().transport !== 'ws') return ctx.skip('WebSocket only');
      const { c } = await h().online(uniqueUser('ws-text'));
      c.writeText('PING');
      expect(await refused(c, 0, 0)).toMatch(/text/);
    });

    it('each server frame comes as one binary message', async (ctx) => {
      if (h().transport !== 'ws') return ctx.skip('WebSocket only');
      const bob = uniqueUser('ws-one');
      const b = (await h().online(bob, 'd1', 1)).c;
      const { c } = await h().online(uniqueUser('ws-one-a'));
      for (let i = 0; i < 20; i++) c.write(ping(100 + i));
      await sendOk(c, textMessage(bob, 'one frame per message'));
      await h().push(b);
      expect(c.decodeError).toBeNull();
      expect(b.decodeError).toBeNull();
      expect(c.received.filter((f) => f.command === Command.PING)).toHaveLength(20);
    });
  });
}
