/**
 * protocol.md §7 Admin HTTP API against the embedded server, over real HTTP: every route, with its
 * error cases (400 with a reason, 401 without the bearer, 404 for unknown ids), and its effect on
 * the TCP side (a token that logs in, a kick that closes the connection, a published public key).
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, codec, Status } from '../../packages/protocol/src/index.js';
import { type AdminClient, adminClient } from '../support/admin.js';
import { connectAs, errorOf, expectStatus, loginBody, uniqueUser } from '../support/im.js';
import { RawClient } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
let admin: AdminClient;
const clients: RawClient[] = [];

beforeAll(async () => {
  srv = await startTestServer();
  admin = adminClient(srv.adminUrl, srv.adminSecret);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await srv?.close();
});

async function online(userId: string, deviceId = 'd1') {
  const r = await connectAs(srv.port, await srv.identity(userId, deviceId));
  clients.push(r.c);
  return r.c;
}

/** Every protected route, with a valid-looking request. */
const PROTECTED: [string, string, unknown?][] = [
  ['POST', '/v1/tokens', { userId: 'u' }],
  ['POST', '/v1/groups', { groupId: 'g', members: [] }],
  ['GET', '/v1/groups/g'],
  ['DELETE', '/v1/groups/g'],
  ['POST', '/v1/groups/g/members', { userIds: ['u'] }],
  ['DELETE', '/v1/groups/g/members/u'],
  ['POST', '/v1/chatrooms', { chatroomId: 'r' }],
  ['GET', '/v1/chatrooms/r'],
  ['DELETE', '/v1/chatrooms/r'],
  ['GET', '/v1/users/u/devices'],
  ['DELETE', '/v1/users/u/devices/d'],
  ['GET', '/v1/users/u/public-key'],
  ['GET', '/v1/server/public-key'],
];

describe('authentication and documents', () => {
  it('401 without the bearer or with a wrong one, on every protected route; nothing happens', async () => {
    for (const [method, path, body] of PROTECTED) {
      for (const bearer of [null, 'wrong-secret', `${srv.adminSecret}x`]) {
        const res = await admin.call(method, path, body, { bearer });
        expect(res.status, `${method} ${path} with ${String(bearer)}`).toBe(401);
        expect(res.body).toMatchObject({ statusCode: 401, message: 'missing or wrong bearer secret' });
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
    }
    expect((await admin.call('GET', '/v1/groups/g')).status).toBe(404); // the 401s created nothing
  });

  it('/healthz, /readyz and /openapi.json need no bearer; the document lists every route', async () => {
    expect(await admin.call('GET', '/healthz', undefined, { bearer: null })).toMatchObject({
      status: 200,
      body: 'ok\n',
    });
    expect((await admin.call('GET', '/readyz', undefined, { bearer: null })).status).toBe(200);
    const doc = await admin.call<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
      'GET',
      '/openapi.json',
      undefined,
      { bearer: null },
    );
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    for (const [method, path] of PROTECTED) {
      const templated = path
        .replace('/groups/g', '/groups/{groupId}')
        .replace('/members/u', '/members/{userId}')
        .replace('/chatrooms/r', '/chatrooms/{chatroomId}')
        .replace('/users/u', '/users/{userId}')
        .replace('/devices/d', '/devices/{deviceId}');
      expect(doc.body.paths[templated]?.[method.toLowerCase()], `${method} ${templated}`).toBeDefined();
    }
  });

  it('an unknown route is 404 with a reason', async () => {
    const res = await admin.call('GET', '/v1/nope');
    expect(res.status).toBe(404);
    expect(res.body.message).toMatch(/no route/);
  });
});

describe('POST /v1/tokens', () => {
  it('issues a token that logs in as that user', async () => {
    const userId = uniqueUser('tok');
    const res = await admin.call<{ token: string; userId: string; expiresAt: number }>('POST', '/v1/tokens', {
      userId,
      ttlSeconds: 600,
    });
    expect(res.status).toBe(200);
    expect(res.body.userId).toBe(userId);
    expect(res.body.expiresAt).toBeGreaterThan(Date.now() + 590_000);
    const c = await RawClient.connect(srv.port);
    clients.push(c);
    const login = await c.request({
      command: Command.LOGIN,
      body: loginBody({ userId, deviceId: 'd1', token: res.body.token }),
    });
    expectStatus(login, Status.OK);
  });

  it('400 with the reason for a missing, empty, mistyped or unknown field, and for bad JSON', async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /userId/],
      [{ userId: '' }, /userId/],
      [{ userId: 'u', ttlSeconds: 'soon' }, /ttlSeconds/],
      [{ userId: 'u', ttlSeconds: 0 }, /ttlSeconds/],
      [{ userId: 'u', admin: true }, /additional/],
      [{ userId: 'x'.repeat(300) }, /userId/],
    ];
    for (const [body, reason] of cases) {
      const res = await admin.call('POST', '/v1/tokens', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.message).toMatch(reason);
    }
    const bad = await admin.call('POST', '/v1/tokens', undefined, { rawBody: '{"userId":' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/JSON/i);
  });
});

describe('groups', () => {
  it('create, read, add and remove members, delete', async () => {
    const groupId = uniqueUser('grp');
    const created = await admin.call('POST', '/v1/groups', { groupId, members: ['bob', 'alice', 'bob'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ groupId, members: ['alice', 'bob'] });
    expect(typeof created.body.createdAt).toBe('number');

    expect((await admin.call('GET', `/v1/groups/${groupId}`)).body).toEqual(created.body);
    const added = await admin.call('POST', `/v1/groups/${groupId}/members`, { userIds: ['carol', 'alice'] });
    expect(added).toMatchObject({ status: 200, body: { members: ['alice', 'bob', 'carol'] } });
    const removed = await admin.call('DELETE', `/v1/groups/${groupId}/members/bob`);
    expect(removed).toMatchObject({ status: 200, body: { members: ['alice', 'carol'] } });
    // Removing a non-member of an existing group changes nothing and is fine.
    expect((await admin.call('DELETE', `/v1/groups/${groupId}/members/zed`)).status).toBe(200);

    const deleted = await admin.call('DELETE', `/v1/groups/${groupId}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBe('');
    expect((await admin.call('GET', `/v1/groups/${groupId}`)).status).toBe(404);
  });

  it('a group created without members is empty; ids with odd characters round-trip', async () => {
    const groupId = `team/ü #${uniqueUser('x')}`;
    expect((await admin.call('POST', '/v1/groups', { groupId })).body).toMatchObject({
      groupId,
      members: [],
    });
    expect((await admin.call('GET', `/v1/groups/${encodeURIComponent(groupId)}`)).body).toMatchObject({
      groupId,
    });
  });

  it('409 for an existing group; 404 for an unknown one; 400 with a reason', async () => {
    const groupId = uniqueUser('grp');
    await admin.call('POST', '/v1/groups', { groupId, members: ['a'] });
    const dup = await admin.call('POST', '/v1/groups', { groupId, members: ['b'] });
    expect(dup.status).toBe(409);
    expect(dup.body.message).toMatch(/exists/);

    const unknown = uniqueUser('none');
    for (const [method, path, body] of [
      ['GET', `/v1/groups/${unknown}`],
      ['DELETE', `/v1/groups/${unknown}`],
      ['POST', `/v1/groups/${unknown}/members`, { userIds: ['a'] }],
      ['DELETE', `/v1/groups/${unknown}/members/a`],
    ] as [string, string, unknown?][]) {
      const res = await admin.call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.message).toMatch(/unknown group/);
    }

    const bad: [string, string, unknown, RegExp][] = [
      ['POST', '/v1/groups', { members: ['a'] }, /groupId/],
      ['POST', '/v1/groups', { groupId: '' }, /groupId/],
      ['POST', '/v1/groups', { groupId: 'g', members: 'alice' }, /members/],
      ['POST', '/v1/groups', { groupId: 'g', members: [''] }, /members/],
      ['POST', `/v1/groups/${groupId}/members`, { userIds: [] }, /userIds/],
      ['POST', `/v1/groups/${groupId}/members`, {}, /userIds/],
    ];
    for (const [method, path, body, reason] of bad) {
      const res = await admin.call(method, path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.message).toMatch(reason);
    }
  });
});

describe('chatrooms', () => {
  it('create, read with members present, delete; 409, 404 and 400', async () => {
    const chatroomId = uniqueUser('room');
    const created = await admin.call('POST', '/v1/chatrooms', { chatroomId });
    expect(created).toMatchObject({ status: 201, body: { chatroomId, members: 0 } });
    expect((await admin.call('POST', '/v1/chatrooms', { chatroomId })).status).toBe(409);

    const a = await online(uniqueUser('alice'));
    expectStatus(
      await a.request({ command: Command.CRJ, body: codec.ChatroomRequest.encode({ chatroomId }) }),
      Status.OK,
    );
    expect((await admin.call('GET', `/v1/chatrooms/${chatroomId}`)).body).toMatchObject({
      chatroomId,
      members: 1,
    });

    expect((await admin.call('DELETE', `/v1/chatrooms/${chatroomId}`)).status).toBe(204);
    for (const method of ['GET', 'DELETE']) {
      const res = await admin.call(method, `/v1/chatrooms/${chatroomId}`);
      expect(res.status).toBe(404);
      expect(res.body.message).toMatch(/unknown chatroom/);
    }
    for (const body of [{}, { chatroomId: '' }, { chatroomId: 7 }]) {
      const res = await admin.call('POST', '/v1/chatrooms', body);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/chatroomId/);
    }
  });
});

describe('users: devices, kick, public key', () => {
  it("lists a user's online devices; an offline user has none", async () => {
    const userId = uniqueUser('multi');
    await online(userId, 'phone');
    await online(userId, 'laptop');
    const res = await admin.call<{ devices: { deviceId: string; nodeId: string }[] }>(
      'GET',
      `/v1/users/${userId}/devices`,
    );
    expect(res.status).toBe(200);
    expect(res.body.devices.map((d) => d.deviceId).sort()).toEqual(['laptop', 'phone']);
    expect(res.body.devices.every((d) => d.nodeId === 'e2e-1')).toBe(true);
    expect((await admin.call('GET', `/v1/users/${uniqueUser('ghost')}/devices`)).body).toMatchObject({
      devices: [],
    });
  });

  it('kicks a device: LOGOUT with KICKED, connection closed, route gone; 404 when not online', async () => {
    const userId = uniqueUser('kickme');
    const phone = await online(userId, 'phone');
    const laptop = await online(userId, 'laptop');
    const res = await admin.call('DELETE', `/v1/users/${userId}/devices/phone`);
    expect(res.status).toBe(204);
    const notice = await phone.next((f) => f.command === Command.LOGOUT);
    expect(notice.status).toBe(Status.KICKED);
    expect(errorOf(notice).message).toBeTruthy();
    await phone.closed;
    const devices = await admin.call<{ devices: { deviceId: string }[] }>(
      'GET',
      `/v1/users/${userId}/devices`,
    );
    expect(devices.body.devices.map((d) => d.deviceId)).toEqual(['laptop']);
    expectStatus(await laptop.request({ command: Command.PING }), Status.OK);

    const again = await admin.call('DELETE', `/v1/users/${userId}/devices/phone`);
    expect(again.status).toBe(404);
    expect(again.body.message).toMatch(/not online/);
  });

  it('returns the public key a user published at LOGIN; 404 for a user without one', async () => {
    const userId = uniqueUser('keyed');
    const spki = new Uint8Array(
      generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'der', type: 'spki' }),
    );
    const c = await RawClient.connect(srv.port);
    clients.push(c);
    const id = await srv.identity(userId, 'd1');
    expectStatus(
      await c.request({ command: Command.LOGIN, body: loginBody(id, { publicKey: spki }) }),
      Status.OK,
    );
    const res = await admin.call<{ publicKey: string }>('GET', `/v1/users/${userId}/public-key`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(Buffer.from(res.body.publicKey, 'base64'))).toEqual(spki);

    const none = await admin.call('GET', `/v1/users/${uniqueUser('keyless')}/public-key`);
    expect(none.status).toBe(404);
    expect(none.body.message).toMatch(/no public key/);
  });

  it('400 for an over-long id in the path', async () => {
    const res = await admin.call('GET', `/v1/users/${'x'.repeat(300)}/devices`);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/userId/);
  });
});

describe('GET /v1/server/public-key', () => {
  it("returns the server's RSA public key (SPKI PEM) the edge decrypts RSA logins with", async () => {
    const res = await admin.call<{ publicKey: string }>('GET', '/v1/server/public-key');
    expect(res.status).toBe(200);
    expect(res.body.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(res.body.publicKey).toBe(srv.server.serverKeys?.publicKeyPem);
  });
});
