/**
 * protocol.md §1, §2, §3 and §6 Limits and abuse: malformed and hostile input over real TCP.
 * After each case FRESH clients must still log in and exchange a message across the edges (the
 * server is unharmed).
 */
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Command,
  Compression,
  codec,
  Encrypt,
  Flow,
  packFlag,
  Status,
  unpackFlag,
} from '../../packages/protocol/src/index.js';
import {
  errorOf,
  expectStatus,
  loginBody,
  sendMessage,
  sendOk,
  textMessage,
  uniqueUser,
} from '../support/im.js';
import { rawHeader } from '../support/raw-client.js';
import type { Harness } from './harness.js';
import { CONFORMANCE_SETTINGS } from './target.js';

const MAX_BODY = CONFORMANCE_SETTINGS.maxBodyBytes;

export function badInputScenarios(h: () => Harness): void {
  const online = async (userId = uniqueUser('u'), deviceId = 'd1') => (await h().online(userId, deviceId)).c;

  describe('bad input (protocol.md §1, §2, §3)', () => {
    /** The server still serves: a fresh client logs in and a message reaches another fresh client. */
    afterEach(async () => {
      const bob = uniqueUser('fresh-bob');
      const b = (await h().online(bob, 'd1', 1)).c;
      const a = (await h().online(uniqueUser('fresh-alice'), 'd1', 0)).c;
      const ack = await sendOk(a, textMessage(bob, 'still alive'));
      expect((await h().push(b)).message.messageUid).toBe(ack.messageUid);
      h().closeClients();
    });

    describe('framing errors (protocol.md §1, §2)', () => {
      it('reserved flag bits: closed at once without a response', async () => {
        const c = await online();
        const before = c.received.length;
        c.write(rawHeader({ length: 0, seq: 5, command: Command.PING, flag: 0b0100_0000 }));
        expect(await c.closedWithin(2000)).toBe(true);
        expect(c.received.length).toBe(before);
      });

      it('reserved flag bits before login: closed at once without a response', async () => {
        const c = await h().raw();
        c.write(rawHeader({ length: 2, seq: 1, command: Command.LOGIN, flag: 0b1000_0000 }));
        expect(await c.closedWithin(2000)).toBe(true);
        expect(c.received).toEqual([]);
      });

      it('an announced body over the limit: FRAME_TOO_LARGE before the body is sent, then closed', async () => {
        const c = await online();
        // Only the header: the server must answer without waiting for (or buffering) the body.
        c.write(rawHeader({ length: MAX_BODY + 1, seq: 9, command: Command.MS, flag: 0 }));
        const res = await c.next((f) => f.seq === 9);
        expect(res.command).toBe(Command.MS);
        expect(unpackFlag(res.flag).flow).toBe(Flow.RESPONSE);
        expectStatus(res, Status.FRAME_TOO_LARGE);
        expect(errorOf(res).message).toMatch(/limit/);
        expect(await c.closedWithin(2000)).toBe(true);
      });

      // protocol.md §3 "Nothing is ever silently dropped": frames read before a closing error are
      // answered first, even when they arrive in the same TCP write as the bad header.
      // Garbage decodes as some bad header (here: version '/'); what it is answered with is its own
      // business, only the order matters.
      const closingTails: [string, Uint8Array, number | null | 'any'][] = [
        ['reserved bits', rawHeader({ length: 0, seq: 3, command: Command.PING, flag: 0b0100_0000 }), null],
        [
          'FRAME_TOO_LARGE',
          rawHeader({ length: MAX_BODY + 1, seq: 3, command: Command.MS, flag: 0 }),
          Status.FRAME_TOO_LARGE,
        ],
        [
          'an unsupported version',
          rawHeader({ length: 0, version: 9, seq: 3, command: Command.PING, flag: 0 }),
          Status.UNSUPPORTED,
        ],
        ['garbage', new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'any'],
      ];
      for (const [what, tail, status] of closingTails) {
        it(`two PINGs then ${what} in one write (WebSocket: back to back): both PINGs answered, then the close`, async () => {
          const c = await online();
          const ping = (seq: number) => rawHeader({ length: 0, seq, command: Command.PING, flag: 0 });
          const before = c.received.length;
          if (c.transport === 'tcp') {
            const bytes = new Uint8Array(24 + tail.length);
            bytes.set(ping(1001), 0);
            bytes.set(ping(1002), 12);
            bytes.set(tail, 24);
            c.write(bytes);
          } else {
            // WebSocket: a message is one frame, so three back-to-back messages.
            for (const m of [ping(1001), ping(1002), tail]) c.write(m);
          }
          expect(await c.closedWithin(3000)).toBe(true);
          const got = c.received.slice(before).map((f) => [f.seq, f.status]);
          expect(got.slice(0, 2)).toEqual([
            [1001, Status.OK],
            [1002, Status.OK],
          ]);
          if (status === null) expect(got).toHaveLength(2);
          else if (status !== 'any') expect(got.slice(2)).toEqual([[3, status]]);
        });
      }

      it('a body exactly at the limit is accepted (the limit is inclusive)', async () => {
        const c = await online();
        const res = await c.request({ command: Command.PING, body: new Uint8Array(MAX_BODY) });
        expectStatus(res, Status.OK);
      });

      it('version ≠ 1: UNSUPPORTED, then closed', async () => {
        const c = await h().raw();
        c.write(rawHeader({ length: 0, version: 2, seq: 3, command: Command.PING, flag: 0 }));
        const res = await c.next();
        expect([res.seq, res.command, res.version]).toEqual([3, Command.PING, 1]);
        expectStatus(res, Status.UNSUPPORTED);
        expect(errorOf(res).message).toMatch(/version/);
        expect(await c.closedWithin(2000)).toBe(true);
      });

      it('an HTTP request line: closed without a response', async () => {
        const c = await h().raw();
        c.write(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
        expect(await c.closedWithin(2000)).toBe(true);
        expect(c.received).toEqual([]);
      });

      it('a TLS ClientHello on the plain port: closed without a response', async () => {
        const c = await h().raw();
        c.write(
          Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x00, 0x00]),
        );
        expect(await c.closedWithin(2000)).toBe(true);
        expect(c.received).toEqual([]);
      });
    });

    describe('flag and command checks (protocol.md §2, §3, §4): answered, the connection stays open', () => {
      it('an unknown command: UNSUPPORTED, and the same connection still answers PING', async () => {
        const c = await online();
        for (const command of [42, Command.RESERVED, 255]) {
          const res = await c.request({ command });
          expectStatus(res, Status.UNSUPPORTED);
          expect(res.command).toBe(command);
          expect(errorOf(res).message).toMatch(/command/);
        }
        expectStatus(await c.request({ command: Command.PING }), Status.OK);
      });

      it('an unknown command before LOGIN is UNSUPPORTED too (and not a strike)', async () => {
        const c = await h().raw();
        for (let i = 0; i < 4; i++) expectStatus(await c.request({ command: 99 }), Status.UNSUPPORTED);
        expectStatus(
          await c.request({
            command: Command.LOGIN,
            body: loginBody(await h().identity(uniqueUser('late'))),
          }),
          Status.OK,
        );
      });

      it('flow ≠ 0: BAD_REQUEST', async () => {
        const c = await online();
        for (const flow of [Flow.RESPONSE, Flow.NOTIFY, 3]) {
          const res = await c.request({ command: Command.PING, flag: packFlag({ flow }) });
          expectStatus(res, Status.BAD_REQUEST);
          expect(errorOf(res).message).toMatch(/flow/);
        }
        expectStatus(await c.request({ command: Command.PING }), Status.OK);
      });

      it('compression 2 or 3: UNSUPPORTED', async () => {
        const c = await online();
        for (const compression of [2, 3]) {
          const res = await c.request({ command: Command.PING, flag: packFlag({ compression }) });
          expectStatus(res, Status.UNSUPPORTED);
          expect(errorOf(res).message).toMatch(/compression/);
        }
        expectStatus(await c.request({ command: Command.PING }), Status.OK);
      });

      it('AES or RSA without a session key: UNSUPPORTED', async () => {
        const c = await online();
        for (const encrypt of [Encrypt.AES, Encrypt.RSA]) {
          expectStatus(
            await c.request({ command: Command.PING, flag: packFlag({ encrypt }) }),
            Status.UNSUPPORTED,
          );
        }
        expectStatus(await c.request({ command: Command.PING }), Status.OK);
      });

      it('encrypt = 3 on anything but MS: BAD_REQUEST', async () => {
        const c = await online();
        const res = await c.request({ command: Command.PING, flag: packFlag({ encrypt: Encrypt.E2E }) });
        expectStatus(res, Status.BAD_REQUEST);
        expect(errorOf(res).message).toMatch(/MS/);
      });

      it('MN or MPS from a client: BAD_REQUEST', async () => {
        const c = await online();
        for (const command of [Command.MN, Command.MPS]) {
          const res = await c.request({ command });
          expectStatus(res, Status.BAD_REQUEST);
        }
        expectStatus(await c.request({ command: Command.PING }), Status.OK);
      });
    });

    describe('bodies (protocol.md §3, §5)', () => {
      it('a truncated protobuf: BAD_REQUEST with an ErrorInfo message', async () => {
        const c = await online();
        const full = codec.Message.encode(textMessage('someone', 'a message that will be cut'));
        const res = await c.request({ command: Command.MS, body: full.subarray(0, full.length - 5) });
        expectStatus(res, Status.BAD_REQUEST);
        expect(errorOf(res).message.length).toBeGreaterThan(0);
      });

      it('a wrong-type protobuf field: BAD_REQUEST with an ErrorInfo message', async () => {
        const c = await h().raw();
        // LoginRequest.userId (field 1) must be a string (wire type 2); send a varint (wire type 0).
        const res = await c.request({ command: Command.LOGIN, body: Uint8Array.from([0x08, 0x96, 0x01]) });
        expectStatus(res, Status.BAD_REQUEST);
        expect(errorOf(res).message.length).toBeGreaterThan(0);
      });

      it('an empty MS body: BAD_REQUEST', async () => {
        const c = await online();
        const res = await c.request({ command: Command.MS });
        expectStatus(res, Status.BAD_REQUEST);
        expect(errorOf(res).message).toMatch(/MS|body|Message/);
      });

      it('a gzip request works, and the response to it is uncompressed when small', async () => {
        const bob = uniqueUser('gz-bob');
        const c = await online();
        const res = await c.request({
          command: Command.MS,
          flag: packFlag({ compression: Compression.GZIP }),
          body: gzipSync(codec.Message.encode(textMessage(bob, 'zipped'))),
        });
        expectStatus(res, Status.OK);
        expect(unpackFlag(res.flag).compression).toBe(Compression.NONE);
        expect(codec.SendAck.decode(res.body).seq).toBe(1);
      });

      it('a body that is not gzip under the gzip flag: BAD_REQUEST, stays open', async () => {
        const c = await online();
        const res = await c.request({
          command: Command.MS,
          flag: packFlag({ compression: Compression.GZIP }),
          body: Uint8Array.from([1, 2, 3, 4]),
        });
        expectStatus(res, Status.BAD_REQUEST);
        expectStatus(await c.request({ command: Command.PING }), Status.OK);
      });

      it('a gzip body that inflates past the limit: FRAME_TOO_LARGE, then closed', async () => {
        const c = await online();
        const bomb = gzipSync(new Uint8Array(MAX_BODY * 4));
        expect(bomb.length).toBeLessThan(MAX_BODY);
        const res = await c.request({
          command: Command.MS,
          flag: packFlag({ compression: Compression.GZIP }),
          body: bomb,
        });
        expectStatus(res, Status.FRAME_TOO_LARGE);
        expect(errorOf(res).message).toMatch(/limit/);
        expect(await c.closedWithin(2000)).toBe(true);
      });

      it('a garbage stream that happens to parse as frames is answered in order, then closed on the third strike', async () => {
        const c = await h().raw();
        // Valid headers with garbage bodies for every defined command but LOGOUT (which would
        // just close), before login. protocol.md §3 and docs §8.2 decide each answer in turn.
        const commands = [0, 1, 3, 4, 5, 6, 7, 8, 9, 10];
        // Each frame in one write: over WebSocket a write is a message, and a message one frame.
        for (const command of commands) {
          c.write(
            Buffer.concat([
              rawHeader({ length: 3, seq: 100 + command, command, flag: 0 }),
              Uint8Array.of(0xff, 0xff, 0xff),
            ]),
          );
        }
        expect(await c.closedWithin(2000)).toBe(true);
        expect(c.received.map((f) => [f.seq, f.command, f.status])).toEqual([
          [100, 0, Status.UNSUPPORTED], // RESERVED: step 6, not a strike
          [101, Command.LOGIN, Status.BAD_REQUEST], // body does not parse: strike 1
          [103, Command.PING, Status.UNAUTHORIZED], // strike 2
          [104, Command.MS, Status.UNAUTHORIZED], // strike 3: answered, then closed
        ]);
        for (const f of c.received) expect(errorOf(f).message.length).toBeGreaterThan(0);
      });
    });

    describe('MS with a message for an unreachable peer shape', () => {
      it('a different to than the target is BAD_REQUEST', async () => {
        const c = await online();
        const res = await sendMessage(c, { ...textMessage(uniqueUser('x'), 'x'), to: 'someone-else' });
        expectStatus(res, Status.BAD_REQUEST);
      });
    });
  });
}
