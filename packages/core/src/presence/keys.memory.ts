import type { PublicKeyStore } from './keys.js';

export class MemoryPublicKeyStore implements PublicKeyStore {
  private readonly keys = new Map<string, Uint8Array>();

  async set(userId: string, key: Uint8Array): Promise<void> {
    this.keys.set(userId, key.slice());
  }

  async get(userId: string): Promise<Uint8Array | null> {
    return this.keys.get(userId)?.slice() ?? null;
  }
}
