import type { PresenceApi } from '@im/core';
import { PresenceService } from '@im/protocol/internal';
import { type RpcServer, type ServeOptions, startRpcServer } from './server.js';

/** Serves a PresenceApi (the presence service) as im.internal.PresenceService. */
export function servePresence(impl: PresenceApi, opts: ServeOptions): Promise<RpcServer> {
  return startRpcServer(
    PresenceService,
    {
      login: async (r) => ({ epoch: (await impl.login(r)).epoch }),
      loginBatch: async (r) => ({ epochs: (await impl.loginMany(r.items)).map((x) => x.epoch) }),
      logout: async (r) => {
        await impl.logout(r.userId, r.deviceId, r.epoch);
        return {};
      },
      heartbeat: async (r) => {
        await impl.heartbeat(r.routes);
        return {};
      },
      devices: async (r) => ({ routes: await impl.devices(r.userId) }),
      publicKey: async (r) => {
        const key = await impl.publicKey(r.userId);
        return key === null ? { found: false } : { found: true, publicKey: key };
      },
      kick: async (r) => ({ kicked: await impl.kick(r.userId, r.deviceId) }),
    },
    opts,
  );
}
