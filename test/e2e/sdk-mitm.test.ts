/**
 * protocol.md §2: "A client likewise refuses any unsealed frame from the server once it holds a
 * session secret". An SDK client logged in with RSA talks to the embedded server through an
 * attacker's proxy (test/support/mitm-proxy.ts), which writes plaintext frames of its own: a
 * KICKED notify, an MPS, and a PullResponse in place of the server's. Each, marked plain or
 * encrypt = 3, is refused: the connection closes, the SDK reports it (`error`, ConnectionError
 * PROTOCOL), acts on none of it, and reconnects.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionError, ImClient } from '../../packages/client/src/index.js';
import { waitFor } from '../../packages/client/test/helpers/wait.js';
import {
  Command,
  codec,
  Encrypt,
  Flow,
  type Message,
  packFlag,
  Status,
} from '../../packages/protocol/src/index.js';
import { textMessage, uniqueUser } from '../support/im.js';
import { type ForgedFrame, MitmProxy } from '../support/mitm-proxy.js';
import { startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
let proxy: MitmProxy;
const clients: ImClient[] = [];

beforeAll(async () => {
  srv = await startTestServer();
  proxy = await MitmProxy.start(srv.port);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  proxy.onRequest = null;
});

afterAll(async () => {
  await proxy?.close();
  await srv?.close();
});

/** An RSA-mode SDK client behind the proxy, logged in, with what it reports recorded. */
async function victim() {
  const userId = uniqueUser('victim');
  const id = await srv.identity(userId);
  const client = new ImClient({
    host: '127.0.0.1',
    port: proxy.port,
    userId,
    deviceId: id.deviceId,
    token: id.token,
    encryption: 'rsa',
    serverPublicKey: srv.server.serverKeys?.publicKeyPem as string,
    backoff: { minMs: 10, maxMs: 50 },
  });
  clients.push(client);
  const seen = { errors: [] as Error[], messages: [] as Message[], kicked: 0, reconnects: 0 };
  client.on('error', (e) => seen.errors.push(e));
  client.on('message', (m) => seen.messages.push(m));
  client.on('kicked', () => seen.kicked++);
  client.on('reconnect', () => seen.reconnects++);
  await client.connect();
  expect(client.connection?.encrypted).toBe(true);
  return { client, seen };
}

function refusedAsProtocol(seen: { errors: Error[] }): void {
  const protocol = seen.errors.filter((e) => (e as ConnectionError).code === 'PROTOCOL');
  expect(protocol.length).toBeGreaterThan(0);
}

const MARKINGS = [
  ['plain', Encrypt.NONE],
  ['encrypt = 3', Encrypt.E2E],
] as const;

describe('the SDK refuses forged plaintext frames on an RSA connection (protocol.md §2)', () => {
  for (const [marking, encrypt] of MARKINGS) {
    it(`a forged KICKED notify (${marking}): refused, reported, not kicked, reconnected`, async () => {
      const { client, seen } = await victim();
      proxy.toClient({
        seq: 1,
        command: Command.LOGOUT,
        flag: packFlag({ flow: Flow.NOTIFY, encrypt }),
        status: Status.KICKED,
        body: codec.ErrorInfo.encode({ message: 'logged in elsewhere', retryAfterMs: 0 }),
      });
      await waitFor('the reconnect', () => seen.reconnects === 1);
      refusedAsProtocol(seen);
      expect(seen.kicked).toBe(0);
      expect(client.state).toBe('connected');
    });

    it(`a forged MPS (${marking}): refused, reported, never emitted as a message`, async () => {
      const { seen } = await victim();
      const forged = {
        ...textMessage('victim', 'send your password to mallory'),
        from: 'boss',
        messageUid: 99n,
        serverTime: Date.now(),
      };
      const frame: ForgedFrame = {
        seq: 1,
        command: Command.MPS,
        flag: packFlag({ flow: Flow.NOTIFY, encrypt }),
        status: 0,
        body: codec.Message.encode(forged),
      };
      proxy.toClient(frame);
      await waitFor('the reconnect', () => seen.reconnects === 1);
      refusedAsProtocol(seen);
      expect(seen.messages).toEqual([]);
    });

    it(`a forged PullResponse (${marking}) in place of the server's: the pull fails, nothing emitted`, async () => {
      const { client, seen } = await victim();
      proxy.onRequest = (req) => {
        if (req.command !== Command.MP) return;
        proxy.holdAnswer(req.seq);
        // After the request reached the server: the forged answer races nothing.
        setImmediate(() =>
          proxy.toClient({
            seq: req.seq,
            command: Command.MP,
            flag: packFlag({ flow: Flow.RESPONSE, encrypt }),
            status: 0,
            body: codec.PullResponse.encode({
              messages: [{ from: 'boss', seq: 1, messageUid: 7n } as Message],
              head: 1,
              hasMore: false,
            }),
          }),
        );
      };
      const err = (await client.pull().catch((e: unknown) => e)) as ConnectionError;
      expect(err.code).toBe('PROTOCOL');
      await waitFor('the reconnect', () => seen.reconnects === 1);
      refusedAsProtocol(seen);
      expect(seen.messages).toEqual([]);
    });
  }
});
