/**
 * The "done when": two SDK clients log in with RSA (2), exchange AES (1) frames and an
 * end-to-end-encrypted (3) message through the server, and the stored row holds no plaintext —
 * with the Node SDK over TCP (node:crypto) and the browser SDK over WebSocket (WebCrypto).
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import * as browserSdk from '../../packages/client/src/browser.js';
import * as nodeSdk from '../../packages/client/src/index.js';
import { messageText, single, textContent } from '../../packages/client/src/index.js';
import {
  Command,
  Encrypt,
  type Frame,
  type Message,
  publicKeyDer,
  unpackFlag,
} from '../../packages/protocol/src/index.js';
import { DB_FILE } from '../../services/embedded/src/index.js';
import { uniqueUser } from '../support/im.js';
import { startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer | undefined;
const SECRET_TEXT = 'meet me at the old mill at midnight';

afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

type Client = InstanceType<typeof nodeSdk.ImClient> | InstanceType<typeof browserSdk.ImClient>;

function nextMessage(c: Client): Promise<Message> {
  return new Promise((resolve) => c.once('message', resolve));
}

/** PEM keys: what both builds take (a browser has no KeyObject). */
const rsaPair = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

describe.each([
  { name: 'node SDK over TCP', sdk: nodeSdk as typeof nodeSdk | typeof browserSdk, ws: false },
  { name: 'browser SDK over WebSocket', sdk: browserSdk, ws: true },
])('$name', ({ sdk, ws }) => {
  it('RSA login, AES frames both ways, an end-to-end message, and no plaintext in the database', async () => {
    srv = await startTestServer({ edge: { ws: true, wsPort: 0 } });
    const server = srv;
    const serverPublicKey = server.server.serverKeys?.publicKeyPem as string;
    const aliceKey = rsaPair();
    const bobKey = rsaPair();
    const aliceId = uniqueUser('alice');
    const bobId = uniqueUser('bob');
    const make = async (userId: string, key: typeof aliceKey) => {
      const id = await server.identity(userId);
      return new sdk.ImClient({
        host: '127.0.0.1',
        port: ws ? (server.server.wsPort as number) : server.port,
        userId,
        deviceId: id.deviceId,
        token: id.token,
        reconnect: false,
        encryption: 'rsa',
        serverPublicKey,
        e2eKey: key.privateKey,
      });
    };
    const alice = await make(aliceId, aliceKey);
    const bob = await make(bobId, bobKey);
    try {
      await alice.connect();
      await bob.connect();
      expect(alice.connection?.encrypted).toBe(true);
      expect(bob.connection?.encrypted).toBe(true);
      // Every frame bob's connection reads arrives AES-sealed, or E2E for the end-to-end message.
      const wire: Frame[] = [];
      bob.connection?.on('frame', (f) => wire.push(f));

      // The published key is what the admin API serves (presence stores LoginRequest.publicKey).
      expect(await server.server.presence.publicKey(bobId)).toEqual(publicKeyDer(bobKey.publicKey));

      // An ordinary message over the AES connection.
      const plainArrives = nextMessage(bob);
      await alice.sendText(bobId, 'hello over AES');
      expect(messageText(await plainArrives)).toBe('hello over AES');

      // The end-to-end message: sealed for bob (and alice's own key), searchable/push content empty.
      const sealedArrives = nextMessage(bob);
      const ack = await alice.sendEncrypted({
        conversation: single(bobId),
        content: textContent(SECRET_TEXT),
        recipientKeys: [bobKey.publicKey],
      });
      const got = await sealedArrives;
      expect(got.messageUid).toBe(ack.messageUid);
      expect(messageText(got)).toBe(SECRET_TEXT);
      const mps = wire.filter((f) => f.command === Command.MPS);
      expect(mps.map((f) => unpackFlag(f.flag).encrypt)).toEqual([Encrypt.NONE, Encrypt.E2E]);

      // A pull returns the sealed data; the SDK opens it with bob's key, alice can open her copy too.
      const pulled = (await bob.pull({ since: 0 })).messages.find(
        (m) => m.messageUid === ack.messageUid,
      ) as Message;
      expect(new TextDecoder().decode(pulled.messageContent?.data)).not.toContain('midnight');
      expect(messageText(await bob.decrypt(pulled))).toBe(SECRET_TEXT);
      expect(messageText(await alice.decrypt(pulled))).toBe(SECRET_TEXT);
      // A third party's key does not open it.
      const eve = rsaPair();
      await expect(
        sdk.openContent(pulled.messageContent?.data as Uint8Array, eve.privateKey, {
          from: pulled.from,
          conversation: pulled.conversation as NonNullable<Message['conversation']>,
        }),
      ).rejects.toThrow(/not sealed for this key/);
    } finally {
      await alice.close();
      await bob.close();
    }

    // The stored row, read with SQL after the server stopped: no plaintext anywhere in it.
    await server.stop();
    const db = new DatabaseSync(join(server.dataDir, DB_FILE), { readOnly: true, readBigInts: true });
    try {
      const rows = db.prepare('SELECT * FROM messages WHERE from_user = ? AND e2e').all(aliceId);
      expect(rows).toHaveLength(1);
      const row = rows[0] as Record<string, unknown>;
      expect(row.searchable).toBe('');
      expect(row.push).toBe('');
      const data = Buffer.from(row.data as Uint8Array);
      expect(data.length).toBeGreaterThan(SECRET_TEXT.length);
      expect(data.includes(Buffer.from('midnight'))).toBe(false);
      const everything = JSON.stringify(row, (_k, v) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : typeof v === 'bigint' ? String(v) : v,
      );
      expect(everything).not.toContain('midnight');
      // The AES-transported message, by contrast, is stored readable (only E2E hides content from the server).
      const plainRows = db
        .prepare('SELECT searchable FROM messages WHERE from_user = ? AND NOT e2e')
        .all(aliceId);
      expect(plainRows.map((r) => r.searchable)).toEqual(['hello over AES']);
    } finally {
      db.close();
    }
  });
});
