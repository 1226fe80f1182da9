import type { LoginInput, PresenceApi, Route } from '@im/core';
import { PresenceService } from '@im/protocol/internal';
import { type ClientOptions, RpcClient } from './client.js';
import { TurnBatcher } from './turn-batch.js';

/** PresenceApi over gRPC: what an edge node uses in the cluster (api.ts). */
export class PresenceClient implements PresenceApi {
  private readonly rpc: RpcClient<typeof PresenceService>;

  constructor(address: string, opts: ClientOptions) {
    this.rpc = new RpcClient(PresenceService, address, opts);
  }

  /** The LOGINs of one turn travel as one LoginBatch (turn-batch.ts). */
  private readonly loginsOfTurn = new TurnBatcher<LoginInput, { epoch: number }>((inputs) =>
    this.loginMany(inputs),
  );

  login(input: LoginInput): Promise<{ epoch: number }> {
    return this.loginsOfTurn.add(input);
  }

  async loginMany(inputs: LoginInput[]): Promise<{ epoch: number }[]> {
    const res = await this.rpc.call('loginBatch', { items: inputs });
    return res.epochs.map((epoch) => ({ epoch }));
  }

  async logout(userId: string, deviceId: string, epoch: number): Promise<void> {
    await this.rpc.call('logout', { userId, deviceId, epoch });
  }

  async heartbeat(routes: Route[]): Promise<void> {
    await this.rpc.call('heartbeat', { routes });
  }

  async devices(userId: string): Promise<Route[]> {
    return (await this.rpc.call('devices', { userId })).routes;
  }

  async publicKey(userId: string): Promise<Uint8Array | null> {
    const res = await this.rpc.call('publicKey', { userId });
    return res.found ? res.publicKey : null;
  }

  async kick(userId: string, deviceId: string): Promise<boolean> {
    return (await this.rpc.call('kick', { userId, deviceId })).kicked;
  }

  /** Whether the presence service can be reached within timeoutMs (readiness). */
  ready(timeoutMs?: number): Promise<boolean> {
    return this.rpc.ready(timeoutMs);
  }

  async close(): Promise<void> {
    this.rpc.close();
  }
}
