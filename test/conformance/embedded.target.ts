/**
 * The embedded server (one process, in-memory routes and bus, SQLite) as a conformance Target,
 * over TCP or over WebSocket (protocol.md §1); it listens on both, so the other transport is the
 * target's `alternate`. One endpoint: "edge 0" and "edge 1" of the scenarios are the same node.
 */
import { startTestServer } from '../support/server.js';
import { CONFORMANCE_SETTINGS, type Target } from './target.js';

export async function embeddedTarget(transport: 'tcp' | 'ws'): Promise<Target> {
  const s = CONFORMANCE_SETTINGS;
  const srv = await startTestServer({
    edge: {
      maxBodyBytes: s.maxBodyBytes,
      heartbeatSeconds: s.heartbeatSeconds,
      acceptPerIpPerSecond: s.acceptPerIpPerSecond,
      acceptPerIpBurst: s.acceptPerIpBurst,
      ws: true,
      wsPort: 0,
    },
    message: { pushMaxBodyBytes: s.pushMaxBodyBytes },
  });
  const tcp = { host: '127.0.0.1', port: srv.port, transport: 'tcp' as const };
  const ws = { host: '127.0.0.1', port: srv.server.wsPort as number, transport: 'ws' as const };
  return {
    endpoints: [transport === 'ws' ? ws : tcp],
    alternate: [transport === 'ws' ? tcp : ws],
    jwtSecret: srv.config.auth.jwtSecret,
    async devices(userId) {
      return (await srv.server.presence.devices(userId)).map((r) => r.deviceId).sort();
    },
    admin: { url: srv.adminUrl, secret: srv.adminSecret },
    // protocol.md §6 Offline push hook: embedded mode keeps the records in memory.
    async offlinePushes(userId) {
      return srv.server.offlinePushes().filter((r) => r.userId === userId);
    },
    close: () => srv.close(),
  };
}
