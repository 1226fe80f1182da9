/**
 * mTLS on every internal gRPC hop of a running cluster (issue 9 item 8; docs/security.md, Internal
 * traffic): every service started with IM_GRPC_TLS_CA_FILE / _CERT_FILE / _KEY_FILE (certificates
 * made by openssl, test/support/mtls-certs.ts). A message still goes edge → message → storage and
 * back, LOGIN goes edge → presence, the admin API reaches presence and storage — and a gRPC client
 * without a certificate of the cluster's CA gets nothing from the message, presence or storage
 * service.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { messageText } from '../../packages/client/src/index.js';
import { Status } from '../../packages/protocol/src/index.js';
import { type GrpcTls, PresenceClient, StorageClient } from '../../packages/rpc/src/index.js';
import { adminClient } from '../support/admin.js';
import { uniqueUser } from '../support/im.js';
import { describeInfra } from '../support/infra.js';
import { type MtlsCerts, makeMtlsCerts } from '../support/mtls-certs.js';
import { type TrackedClient, trackedClient } from './support/clients.js';
import { startTestCluster, type TestCluster } from './support/cluster.js';

describeInfra('cluster: mTLS on every internal gRPC hop', () => {
  let c: TestCluster;
  let certs: MtlsCerts;
  const clients: TrackedClient[] = [];
  const closers: { close(): unknown }[] = [];

  beforeAll(async () => {
    certs = makeMtlsCerts();
    c = await startTestCluster({
      label: 'mtls',
      edges: 1,
      env: {
        IM_GRPC_TLS_CA_FILE: certs.caFile,
        IM_GRPC_TLS_CERT_FILE: certs.service.certFile,
        IM_GRPC_TLS_KEY_FILE: certs.service.keyFile,
      },
    });
  });

  beforeEach((ctx) => {
    ctx.onTestFailed(async () => console.error(`---- cluster logs ----\n${await c?.logTail()}`));
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((t) => t.client.close()));
    for (const x of closers) x.close();
    await c?.stop();
    certs?.remove();
  });

  it('LOGIN, MS, delivery and pull cross the mTLS hops', async () => {
    const [alice, bob] = [uniqueUser('alice'), uniqueUser('bob')];
    const a = await trackedClient(c.endpoints, c.jwtSecret, alice, 'phone');
    const b = await trackedClient(c.endpoints, c.jwtSecret, bob, 'phone');
    clients.push(a, b);
    const ack = await a.client.sendText(bob, 'over mTLS');
    const deadline = Date.now() + 10_000;
    while (!b.received.some((m) => m.messageUid === ack.messageUid) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(b.received.map(messageText)).toContain('over mTLS');
    const page = await b.client.pull({ since: 0 });
    expect(page.messages.map((m) => m.messageUid)).toEqual([ack.messageUid]);
  });

  it('the admin API reaches presence and storage over mTLS', async () => {
    const admin = c.cluster.admin;
    if (!admin) throw new Error('the cluster has no admin service');
    const api = adminClient(`http://127.0.0.1:${admin.port}`, c.cluster.adminSecret);
    const group = uniqueUser('g');
    const created = await api.call('POST', '/v1/groups', { groupId: group, members: ['x', 'y'] });
    expect(created.status).toBe(201);
    const devices = await api.call('GET', `/v1/users/${uniqueUser('u')}/devices`);
    expect(devices.status).toBe(200);
  });

  it('a gRPC client without a certificate of the cluster CA is refused by every service', async () => {
    const stranger: GrpcTls = {
      ca: readFileSync(certs.caFile),
      cert: readFileSync(certs.stranger.certFile),
      key: readFileSync(certs.stranger.keyFile),
    };
    for (const tls of [null, stranger]) {
      const presence = new PresenceClient(`127.0.0.1:${c.cluster.presence.port}`, { deadlineMs: 2_000, tls });
      const storage = new StorageClient(`127.0.0.1:${c.cluster.storage.port}`, { deadlineMs: 2_000, tls });
      closers.push(presence, storage);
      await expect(presence.devices('anyone')).rejects.toMatchObject({ status: Status.UNAVAILABLE });
      await expect(storage.head('anyone')).rejects.toMatchObject({ status: Status.UNAVAILABLE });
    }
    // The same calls with the cluster's certificate are answered.
    const own: GrpcTls = {
      ca: readFileSync(certs.caFile),
      cert: readFileSync(certs.service.certFile),
      key: readFileSync(certs.service.keyFile),
    };
    const storage = new StorageClient(`127.0.0.1:${c.cluster.storage.port}`, { deadlineMs: 2_000, tls: own });
    closers.push(storage);
    expect(await storage.head('anyone')).toBe(0);
  });
});
