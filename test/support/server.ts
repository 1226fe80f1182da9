/**
 * An embedded server for end-to-end tests: port 0 on loopback, a temp data dir, a known JWT
 * secret. Set E2E_LOG=debug (or info) to see the server's logs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, type DeepPartial, loadConfig, signDevToken } from '../../packages/core/src/index.js';
import { type EmbeddedServer, startEmbedded } from '../../services/embedded/src/index.js';
import type { Identity } from './im.js';

export interface TestServer {
  port: number;
  /** The admin HTTP API (services/admin) on loopback, port 0. */
  adminUrl: string;
  adminSecret: string;
  config: Config;
  server: EmbeddedServer;
  dataDir: string;
  /** A valid token for userId on deviceId. */
  identity(userId: string, deviceId?: string): Promise<Identity>;
  /** Stops the server (the data dir stays, for restart tests). */
  stop(): Promise<void>;
  /** Stops the server and deletes the data dir. */
  close(): Promise<void>;
}

export async function tempDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'im-e2e-'));
}

export async function startTestServer(
  overrides: DeepPartial<Config> = {},
  opts: { dataDir?: string; secret?: string } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await tempDataDir());
  const secret = opts.secret ?? randomBytes(16).toString('hex');
  const adminSecret = randomBytes(16).toString('hex');
  const config = loadConfig(
    {},
    {
      nodeId: 'e2e-1',
      logLevel: process.env.E2E_LOG ?? 'silent',
      dataDir,
      ...overrides,
      auth: { jwtSecret: secret, ...overrides.auth },
      edge: { host: '127.0.0.1', port: 0, ...overrides.edge },
      admin: { host: '127.0.0.1', port: 0, secret: adminSecret, ...overrides.admin },
    },
    'embedded',
  );
  const server = await startEmbedded(config);
  return {
    port: server.port,
    adminUrl: `http://127.0.0.1:${server.admin?.port}`,
    adminSecret: config.admin.secret,
    config,
    server,
    dataDir,
    async identity(userId, deviceId = 'd1') {
      return { userId, deviceId, token: await signDevToken(secret, userId, 3600) };
    },
    stop: () => server.close(),
    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
