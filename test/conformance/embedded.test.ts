/**
 * The conformance suite against the embedded server (one process, in-memory routes and bus,
 * SQLite): one endpoint, so "edge 0" and "edge 1" of the scenarios are the same node.
 */
import { startTestServer } from '../support/server.js';
import { CONFORMANCE_SETTINGS, conformanceSuite } from './suite.js';

conformanceSuite('embedded', async () => {
  const s = CONFORMANCE_SETTINGS;
  const srv = await startTestServer({
    edge: {
      maxBodyBytes: s.maxBodyBytes,
      heartbeatSeconds: s.heartbeatSeconds,
      acceptPerIpPerSecond: s.acceptPerIpPerSecond,
      acceptPerIpBurst: s.acceptPerIpBurst,
    },
    message: { pushMaxBodyBytes: s.pushMaxBodyBytes },
  });
  return {
    endpoints: [{ host: '127.0.0.1', port: srv.port }],
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
});
