/**
 * Connection over an in-memory transport: seq numbering, response matching, flags it accepts —
 * for both entries (helpers/entries.ts).
 */
import { Command, codec, decodeHeader, Encrypt, Flow, frameToBytes, packFlag, Status } from '@im/protocol';
import { describe, expect, it } from 'vitest';
import { ConnectionError, NotFoundError } from '../src/index.js';
import { ENTRIES } from './helpers/entries.js';
import { MemoryTransport } from './helpers/memory-transport.js';

const response = (
  seq: number,
  command: number,
  status: number = Status.OK,
  body: Uint8Array = new Uint8Array(0),
) => frameToBytes({ seq, command, flag: packFlag({ flow: Flow.RESPONSE }), status, body });

describe.each(ENTRIES)('Connection ($name entry)', ({ sdk }) => {
  function setup() {
    const t = new MemoryTransport();
    const conn = new sdk.Connection(t, { label: 'mem:1' });
    const closed = new Promise<Error>((resolve) => conn.on('close', resolve));
    return { t, conn, closed };
  }

  it('numbers requests from 1 and matches responses by seq, in any order', async () => {
    const { t, conn } = setup();
    const a = conn.request(Command.PING);
    const b = conn.request(Command.MR, codec.RecallRequest.encode({ messageUid: 5n }));
    await t.nth(1);
    expect(t.written.map((w) => decodeHeader(w).seq)).toEqual([1, 2]);
    t.feed(response(2, Command.MR, Status.NOT_FOUND, codec.ErrorInfo.encode({ message: 'no such message' })));
    t.feed(response(1, Command.PING));
    await expect(a).resolves.toMatchObject({ seq: 1, status: 0 });
    const err = await b.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ reason: 'no such message', command: Command.MR });
  });

  it('rejects pending requests with ConnectionError CLOSED when the peer closes', async () => {
    const { t, conn, closed } = setup();
    const pending = conn.request(Command.PING);
    t.peerClose();
    const err = (await pending.catch((e: unknown) => e)) as ConnectionError;
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.code).toBe('CLOSED');
    expect(err.message).toContain('mem:1');
    expect(await closed).toBe(err);
    await expect(conn.request(Command.PING)).rejects.toBe(err);
  });

  it('passes end-to-end (encrypt = 3) pushes through and refuses session-encrypted frames', async () => {
    const { t, conn, closed } = setup();
    const notifies: number[] = [];
    conn.on('notify', (f) => notifies.push(f.command));
    const body = codec.Message.encode({ from: 'a', seq: 1, messageUid: 9n });
    t.feed(
      frameToBytes({
        seq: 1,
        command: Command.MPS,
        flag: packFlag({ flow: Flow.NOTIFY, encrypt: Encrypt.E2E }),
        status: 0,
        body,
      }),
    );
    expect(notifies).toEqual([Command.MPS]);
    t.feed(
      frameToBytes({
        seq: 2,
        command: Command.MPS,
        flag: packFlag({ flow: Flow.NOTIFY, encrypt: Encrypt.AES }),
        status: 0,
        body,
      }),
    );
    const reason = (await closed) as ConnectionError;
    expect(reason.code).toBe('PROTOCOL');
    expect(notifies).toEqual([Command.MPS]);
  });

  it('closes with a PROTOCOL error on bytes that are not this protocol', async () => {
    const { t, closed } = setup();
    t.feed(new TextEncoder().encode('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const reason = (await closed) as ConnectionError;
    expect(reason).toBeInstanceOf(ConnectionError);
    expect(reason.code).toBe('PROTOCOL');
  });
});
