/**
 * Optional mTLS on the internal gRPC hops (issue 9 item 8; docs/security.md, Internal traffic), with
 * certificates made by openssl at test time (test/support/mtls-certs.ts). A server with mTLS takes
 * a client holding a certificate of the cluster's CA, and refuses one without TLS, one with TLS but
 * no certificate, and one whose certificate another CA signed; a client checks the server's name.
 */
import { readFileSync } from 'node:fs';
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import {
  ConfigError,
  defaultConfig,
  MemoryBus,
  MemoryPublicKeyStore,
  MemoryRouteStore,
  PresenceService,
  silentLogger,
} from '@im/core';
import { Status } from '@im/protocol';
import { PresenceService as PresenceSpec } from '@im/protocol/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MtlsCerts, makeMtlsCerts } from '../../../test/support/mtls-certs.js';
import { type GrpcTls, loadGrpcTls, PresenceClient, type RpcServer, servePresence } from '../src/index.js';
import { serializers } from '../src/spec.js';

let certs: MtlsCerts;
let server: RpcServer;
let serverTls: GrpcTls;
const clients: { close(): unknown }[] = [];

const grpcConfig = (over: Partial<ReturnType<typeof defaultConfig>['grpc']>) => ({
  ...defaultConfig().grpc,
  ...over,
});

beforeAll(async () => {
  certs = makeMtlsCerts();
  serverTls = loadGrpcTls(
    grpcConfig({
      tlsCaFile: certs.caFile,
      tlsCertFile: certs.service.certFile,
      tlsKeyFile: certs.service.keyFile,
    }),
  ) as GrpcTls;
  const service = new PresenceService({
    routes: new MemoryRouteStore({ ttlMs: 60_000 }),
    bus: new MemoryBus(),
    keys: new MemoryPublicKeyStore(),
    logger: silentLogger(),
  });
  server = await servePresence(service, { host: '127.0.0.1', port: 0, tls: serverTls });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close();
  certs?.remove();
});

function presence(tls: GrpcTls | null, address = `127.0.0.1:${server.port}`): PresenceClient {
  const c = new PresenceClient(address, { deadlineMs: 2_000, tls });
  clients.push(c);
  return c;
}

async function statusOf(p: Promise<unknown>): Promise<number | 'ok'> {
  return p.then(
    () => 'ok' as const,
    (e: { status: number }) => e.status,
  );
}

describe('gRPC mTLS (config grpc.tls*)', () => {
  it('a client with a certificate of the cluster CA is served', async () => {
    const c = presence(serverTls);
    await c.login({
      userId: 'alice',
      deviceId: 'd',
      nodeId: 'edge-1',
      platform: 0,
      publicKey: new Uint8Array(0),
    });
    expect((await c.devices('alice')).map((r) => r.deviceId)).toEqual(['d']);
  });

  it('a client without TLS is refused (UNAVAILABLE: it never gets a channel)', async () => {
    expect(await statusOf(presence(null).devices('alice'))).toBe(Status.UNAVAILABLE);
  });

  it('a client with TLS but no certificate is refused by the server', async () => {
    // grpc-js directly: the project's client always shows a certificate when TLS is on.
    const raw = new Client(`127.0.0.1:${server.port}`, credentials.createSsl(readFileSync(certs.caFile)));
    clients.push(raw);
    const spec = PresenceSpec.methods.devices;
    const s = serializers(spec);
    const err = await new Promise<ServiceError | null>((resolve) =>
      raw.makeUnaryRequest(
        spec.path,
        s.serializeRequest,
        s.deserializeResponse,
        { userId: 'alice' },
        { deadline: Date.now() + 2_000 },
        (e) => resolve(e),
      ),
    );
    expect(err).not.toBeNull();
    expect(err?.code).toBe(14); // grpc UNAVAILABLE: the handshake was refused
  });

  it('a client whose certificate another CA signed is refused', async () => {
    const stranger: GrpcTls = {
      ca: serverTls.ca,
      cert: readFileSync(certs.stranger.certFile),
      key: readFileSync(certs.stranger.keyFile),
    };
    expect(await statusOf(presence(stranger).devices('alice'))).toBe(Status.UNAVAILABLE);
  });

  it('the client checks the name in the server certificate: tlsServerName picks which', async () => {
    // The certificate names localhost, 127.0.0.1 and im-internal.
    const wrongName = presence({ ...serverTls, serverName: 'im-message' });
    expect(await statusOf(wrongName.devices('alice'))).toBe(Status.UNAVAILABLE);
    const named = presence({ ...serverTls, serverName: 'im-internal' });
    expect(await statusOf(named.devices('alice'))).toBe('ok');
  });

  it('loadGrpcTls: none set is off; a half-set or unreadable one refuses to start', () => {
    expect(loadGrpcTls(grpcConfig({}))).toBeNull();
    expect(() => loadGrpcTls(grpcConfig({ tlsCaFile: certs.caFile }))).toThrow(ConfigError);
    expect(() => loadGrpcTls(grpcConfig({ tlsCaFile: certs.caFile }))).toThrow(
      /IM_GRPC_TLS_CERT_FILE, IM_GRPC_TLS_KEY_FILE not set/,
    );
    expect(() =>
      loadGrpcTls(
        grpcConfig({
          tlsCaFile: '/nonexistent/ca.pem',
          tlsCertFile: certs.service.certFile,
          tlsKeyFile: certs.service.keyFile,
        }),
      ),
    ).toThrow(/IM_GRPC_TLS_CA_FILE \/nonexistent\/ca.pem cannot be read/);
  });
});
