/** Starts the real server in-process (services/embedded) on port 0 (TCP and WebSocket) with a temp data dir. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, type DeepPartial, loadConfig, signDevToken } from '@im/core';
import { type EmbeddedServer, startEmbedded } from '@im/embedded';

export interface TestServer {
  server: EmbeddedServer;
  port: number;
  /** The WebSocket port (protocol.md §1): the browser entry's way in. */
  wsPort: number;
  dataDir: string;
  jwtSecret: string;
  token(userId: string, ttlSeconds?: number): Promise<string>;
  /** Closes the server (and, unless keepData, removes its data dir). */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startTestServer(
  overrides: DeepPartial<Config> = {},
  dataDir = mkdtempSync(join(tmpdir(), 'im-client-test-')),
): Promise<TestServer> {
  const jwtSecret = 'client-test-secret-0123456789-0123456789';
  const config = loadConfig(
    {},
    {
      logLevel: 'silent',
      ...overrides,
      edge: { port: 0, ws: true, wsPort: 0, ...overrides.edge },
      auth: { jwtSecret },
      dataDir,
      nodeId: 'test',
    },
    'embedded',
  );
  const server = await startEmbedded(config);
  return {
    server,
    port: server.port,
    wsPort: server.wsPort as number,
    dataDir,
    jwtSecret,
    token: (userId, ttlSeconds = 600) => signDevToken(jwtSecret, userId, ttlSeconds),
    async stop(opts = {}) {
      await server.close();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
