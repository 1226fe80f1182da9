import type { LoginInput, PresenceApi } from '../api.js';
import type { Logger } from '../log.js';
import type { DeliveryBus, Route, RouteStore } from '../ports.js';
import type { PublicKeyStore } from './keys.js';

export interface PresenceServiceDeps {
  routes: RouteStore;
  bus: DeliveryBus;
  keys: PublicKeyStore;
  logger: Logger;
}

/** protocol.md §6 Session (routes, one live connection per (user, device)) and Heartbeat. */
export class PresenceService implements PresenceApi {
  constructor(private readonly deps: PresenceServiceDeps) {}

  async login(input: LoginInput): Promise<{ epoch: number }> {
    const { route, previous } = await this.deps.routes.register({
      userId: input.userId,
      deviceId: input.deviceId,
      nodeId: input.nodeId,
      platform: input.platform,
    });
    if (previous) {
      // The newer LOGIN wins, on any node, this one included: the older connection is told KICKED.
      // Its epoch lets the edge close exactly that connection and not the new one.
      try {
        await this.deps.bus.publish([
          {
            kind: 'kick',
            nodeId: previous.nodeId,
            userId: previous.userId,
            deviceId: previous.deviceId,
            epoch: previous.epoch,
          },
        ]);
      } catch (err) {
        // Login still succeeds: the new route is in place, and the old connection gets no more
        // deliveries (its route is replaced and a refresh cannot revive it).
        this.deps.logger.warn({ err, userId: input.userId, deviceId: input.deviceId }, 'kick publish failed');
      }
    }
    if (input.publicKey.length > 0) await this.deps.keys.set(input.userId, input.publicKey);
    return { epoch: route.epoch };
  }

  async logout(userId: string, deviceId: string, epoch: number): Promise<void> {
    await this.deps.routes.unregister(userId, deviceId, epoch);
  }

  async heartbeat(routes: Route[]): Promise<void> {
    if (routes.length > 0) await this.deps.routes.refresh(routes);
  }

  async devices(userId: string): Promise<Route[]> {
    return (await this.deps.routes.lookup([userId])).get(userId) ?? [];
  }

  async publicKey(userId: string): Promise<Uint8Array | null> {
    return this.deps.keys.get(userId);
  }

  /**
   * Admin kick (protocol.md §7). The route is removed first, guarded by the epoch just read (a newer
   * login of the device keeps its route), so nothing more is delivered to the old connection; then
   * the owning node is told to close exactly that connection (kick delivery with the same epoch).
   */
  async kick(userId: string, deviceId: string): Promise<boolean> {
    const route = (await this.devices(userId)).find((r) => r.deviceId === deviceId);
    if (!route) return false;
    if (!(await this.deps.routes.unregister(userId, deviceId, route.epoch))) return false;
    await this.deps.bus.publish([
      { kind: 'kick', nodeId: route.nodeId, userId, deviceId, epoch: route.epoch },
    ]);
    return true;
  }
}
