import type { LoginInput, PresenceApi } from '../api.js';
import type { Logger } from '../log.js';
import type { Delivery, DeliveryBus, Route, RouteStore } from '../ports.js';
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
    return (await this.loginMany([input]))[0] as { epoch: number };
  }

  /** The logins of an edge's turn: their routes in one route-store round trip, their kicks in one publish. */
  async loginMany(inputs: LoginInput[]): Promise<{ epoch: number }[]> {
    const registered = await this.deps.routes.registerMany(
      inputs.map((input) => ({
        userId: input.userId,
        deviceId: input.deviceId,
        nodeId: input.nodeId,
        platform: input.platform,
      })),
    );
    // The newer LOGIN wins, on any node, this one included: the older connection is told KICKED.
    // Its epoch lets the edge close exactly that connection and not the new one.
    const kicks: Delivery[] = [];
    for (const { previous } of registered) {
      if (!previous) continue;
      kicks.push({
        kind: 'kick',
        nodeId: previous.nodeId,
        userId: previous.userId,
        deviceId: previous.deviceId,
        epoch: previous.epoch,
      });
    }
    if (kicks.length > 0) {
      try {
        await this.deps.bus.publish(kicks);
      } catch (err) {
        // Logins still succeed: the new routes are in place, and the old connections get no more
        // deliveries (their routes are replaced and a refresh cannot revive them).
        this.deps.logger.warn({ err, kicks: kicks.length }, 'kick publish failed');
      }
    }
    // In order: of two logins of one user in a batch, the later key is the one kept.
    for (const i of inputs) if (i.publicKey.length > 0) await this.deps.keys.set(i.userId, i.publicKey);
    return registered.map(({ route }) => ({ epoch: route.epoch }));
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
