import type { PresenceApi } from '@im/core';
import { copyBytes, routeFromWire, routeToWire } from './convert.js';
import { PresenceService } from './gen/services.js';
import { numFromU64, numToU64 } from './long.js';
import { type RpcServer, type ServeOptions, startRpcServer } from './server.js';

/** Serves a PresenceApi (the presence service) as im.internal.PresenceService. */
export function servePresence(impl: PresenceApi, opts: ServeOptions): Promise<RpcServer> {
  return startRpcServer(
    PresenceService,
    {
      login: async (r) => {
        const { epoch } = await impl.login({
          userId: r.userId ?? '',
          deviceId: r.deviceId ?? '',
          nodeId: r.nodeId ?? '',
          platform: r.platform ?? 0,
          publicKey: copyBytes(r.publicKey),
        });
        return { epoch: numToU64(epoch, 'LoginReply.epoch') };
      },
      logout: async (r) => {
        await impl.logout(r.userId ?? '', r.deviceId ?? '', numFromU64(r.epoch, 'LogoutCall.epoch'));
        return {};
      },
      heartbeat: async (r) => {
        await impl.heartbeat((r.routes ?? []).map(routeFromWire));
        return {};
      },
      devices: async (r) => ({ routes: (await impl.devices(r.userId ?? '')).map(routeToWire) }),
      publicKey: async (r) => {
        const key = await impl.publicKey(r.userId ?? '');
        return key === null ? { found: false } : { found: true, publicKey: key };
      },
      kick: async (r) => ({ kicked: await impl.kick(r.userId ?? '', r.deviceId ?? '') }),
    },
    opts,
  );
}
