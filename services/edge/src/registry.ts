/**
 * Local connections of this edge node: userId → deviceId → connection.
 * protocol.md §6 Session: one live connection per (userId, deviceId); the higher epoch wins.
 */

export interface Registered {
  readonly userId: string;
  readonly deviceId: string;
  readonly epoch: number;
}

export class Registry<C extends Registered> {
  private readonly users = new Map<string, Map<string, C>>();

  /**
   * Registers conn as the live connection of its (user, device). Returns the connection
   * that lost: the previous one when conn has a higher epoch, conn itself when a newer
   * login already holds the slot (logins can finish out of order), or null.
   */
  add(conn: C): C | null {
    let devices = this.users.get(conn.userId);
    if (!devices) {
      devices = new Map();
      this.users.set(conn.userId, devices);
    }
    const current = devices.get(conn.deviceId);
    if (current === conn) return null;
    if (current && current.epoch > conn.epoch) return conn;
    devices.set(conn.deviceId, conn);
    return current ?? null;
  }

  /** Removes conn only if it is still the registered one (a replaced connection leaves no trace). */
  remove(conn: C): boolean {
    const devices = this.users.get(conn.userId);
    if (!devices || devices.get(conn.deviceId) !== conn) return false;
    devices.delete(conn.deviceId);
    if (devices.size === 0) this.users.delete(conn.userId);
    return true;
  }

  get(userId: string, deviceId: string): C | undefined {
    return this.users.get(userId)?.get(deviceId);
  }

  /** Live connections of a user on this node, by device id, without a copy (the hot delivery path). */
  devicesOf(userId: string): ReadonlyMap<string, C> | undefined {
    return this.users.get(userId);
  }

  /** Live connections of a user on this node. */
  devices(userId: string): C[] {
    const devices = this.users.get(userId);
    return devices ? [...devices.values()] : [];
  }

  *all(): IterableIterator<C> {
    for (const devices of this.users.values()) yield* devices.values();
  }

  get size(): number {
    let n = 0;
    for (const devices of this.users.values()) n += devices.size;
    return n;
  }
}
