/**
 * This edge node's chatroom members (protocol.md §6 Chatrooms): room → local connections. The
 * cluster-wide registry knows only which NODES hold a room, so one delivery per node arrives
 * here and is fanned out to these connections. A connection leaves on CRQ and on close.
 */

export class LocalRooms<C> {
  private readonly rooms = new Map<string, Set<C>>();

  add(roomId: string, conn: C): void {
    let set = this.rooms.get(roomId);
    if (!set) {
      set = new Set();
      this.rooms.set(roomId, set);
    }
    set.add(conn);
  }

  /** True when conn was in the room. */
  remove(roomId: string, conn: C): boolean {
    const set = this.rooms.get(roomId);
    if (!set?.delete(conn)) return false;
    if (set.size === 0) this.rooms.delete(roomId);
    return true;
  }

  /** The local member connections of a room (a copy). */
  members(roomId: string): C[] {
    const set = this.rooms.get(roomId);
    return set ? [...set] : [];
  }

  /** Rooms with at least one local member: what the edge's heartbeat keeps alive. */
  ids(): string[] {
    return [...this.rooms.keys()];
  }

  get size(): number {
    return this.rooms.size;
  }
}
