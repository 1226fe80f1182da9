/**
 * A kick (protocol.md §6 Session: the newer LOGIN wins) can overtake the login it is aimed at:
 * presence.login has returned epoch N to connection C, a newer login elsewhere kicks epoch N,
 * and the kick reaches this node before C is in the registry. The kick is remembered here for a
 * while, and C is kicked as soon as it registers.
 */

const KEEP_MS = 60_000;

export class KickMemo {
  private readonly pending = new Map<string, number>();

  remember(userId: string, deviceId: string, epoch: number, now = Date.now()): void {
    for (const [key, at] of this.pending) if (now - at > KEEP_MS) this.pending.delete(key);
    this.pending.set(keyOf(userId, deviceId, epoch), now);
  }

  /** True (once) when a kick for exactly this connection epoch is pending. */
  take(userId: string, deviceId: string, epoch: number): boolean {
    return this.pending.delete(keyOf(userId, deviceId, epoch));
  }
}

function keyOf(userId: string, deviceId: string, epoch: number): string {
  return `${userId}\u0000${deviceId}\u0000${epoch}`;
}
