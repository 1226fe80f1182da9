import type { LoginInput, PresenceApi, Route } from '@im/core';
import { type ClientOptions, RpcClient } from './client.js';
import { copyBytes, routeFromWire, routeToWire } from './convert.js';
import { PresenceService } from './gen/services.js';
import { numFromU64, numToU64 } from './long.js';

/** PresenceApi over gRPC: what an edge node uses in the cluster (api.ts). */
export class PresenceClient implements PresenceApi {
  private readonly rpc: RpcClient<typeof PresenceService>;

  constructor(address: string, opts: ClientOptions) {
    this.rpc = new RpcClient(PresenceService, address, opts);
  }

  async login(input: LoginInput): Promise<{ epoch: number }> {
    const res = await this.rpc.call('login', {
      userId: input.userId,
      deviceId: input.deviceId,
      nodeId: input.nodeId,
      platform: input.platform,
      publicKey: input.publicKey,
    });
    return { epoch: numFromU64(res.epoch, 'LoginReply.epoch') };
  }

  async logout(userId: string, deviceId: string, epoch: number): Promise<void> {
    await this.rpc.call('logout', { userId, deviceId, epoch: numToU64(epoch, 'epoch') });
  }

  async heartbeat(routes: Route[]): Promise<void> {
    await this.rpc.call('heartbeat', { routes: routes.map(routeToWire) });
  }

  async devices(userId: string): Promise<Route[]> {
    const res = await this.rpc.call('devices', { userId });
    return (res.routes ?? []).map(routeFromWire);
  }

  async publicKey(userId: string): Promise<Uint8Array | null> {
    const res = await this.rpc.call('publicKey', { userId });
    return res.found ? copyBytes(res.publicKey) : null;
  }

  async kick(userId: string, deviceId: string): Promise<boolean> {
    const res = await this.rpc.call('kick', { userId, deviceId });
    return res.kicked ?? false;
  }

  /** Whether the presence service can be reached within timeoutMs (readiness). */
  ready(timeoutMs?: number): Promise<boolean> {
    return this.rpc.ready(timeoutMs);
  }

  async close(): Promise<void> {
    this.rpc.close();
  }
}
