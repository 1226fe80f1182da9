import { afterEach, describe, expect, it } from 'vitest';
import { type ChatroomMember, type ChatroomRegistry, lostChatrooms } from '../../src/chatrooms/chatrooms.js';
import { sleep, unique } from '../support.js';

export type ChatroomRegistryFactory = (opts: { ttlMs: number }) => Promise<ChatroomRegistry>;

/**
 * The ChatroomRegistry contract (protocol.md §6 Chatrooms: membership per edge node, so a message
 * goes once to each node with members; Heartbeat: a dead node's membership expires by TTL). Runs
 * against memory and Redis; ids are unique per test; expiry is tested in real time.
 */
export function chatroomRegistryContract(name: string, factory: ChatroomRegistryFactory): void {
  describe(`ChatroomRegistry contract: ${name}`, () => {
    const opened: ChatroomRegistry[] = [];
    const open = async (ttlMs = 60_000) => {
      const r = await factory({ ttlMs });
      opened.push(r);
      return r;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((r) => r.close()));
    });
    const m = (userId: string, nodeId: string, deviceId = 'd1', epoch = 1): ChatroomMember => ({
      userId,
      deviceId,
      nodeId,
      epoch,
    });

    it('lists each node holding members once, however many members it holds', async () => {
      const reg = await open();
      const room = unique('room');
      await reg.join(room, m('a', 'n1'));
      await reg.join(room, m('b', 'n1'));
      await reg.join(room, m('c', 'n2'));
      await reg.join(room, m('c', 'n2')); // idempotent
      expect((await reg.nodes(room)).sort()).toEqual(['n1', 'n2']);
      expect(await reg.count(room)).toBe(3);
      expect(await reg.nodes(unique('empty'))).toEqual([]);
      expect(await reg.count(unique('empty'))).toBe(0);
    });

    it('knows membership per connection: same user on another device, node or epoch is not in', async () => {
      const reg = await open();
      const room = unique('room');
      await reg.join(room, m('a', 'n1', 'd1', 5));
      expect(await reg.isMember(room, m('a', 'n1', 'd1', 5))).toBe(true);
      expect(await reg.isMember(room, m('a', 'n1', 'd2', 5))).toBe(false);
      expect(await reg.isMember(room, m('a', 'n2', 'd1', 5))).toBe(false);
      expect(await reg.isMember(room, m('a', 'n1', 'd1', 6))).toBe(false);
      expect(await reg.isMember(unique('other'), m('a', 'n1', 'd1', 5))).toBe(false);
    });

    it('drops a node with its last member; a late leave of an old epoch removes nothing newer', async () => {
      const reg = await open();
      const room = unique('room');
      await reg.join(room, m('a', 'n1', 'd1', 2));
      await reg.join(room, m('b', 'n1'));
      expect(await reg.leave(room, m('a', 'n1', 'd1', 1))).toBe(false);
      expect(await reg.isMember(room, m('a', 'n1', 'd1', 2))).toBe(true);
      expect(await reg.leave(room, m('a', 'n1', 'd1', 2))).toBe(true);
      expect(await reg.leave(room, m('a', 'n1', 'd1', 2))).toBe(false);
      expect(await reg.nodes(room)).toEqual(['n1']);
      expect(await reg.leave(room, m('b', 'n1'))).toBe(true);
      expect(await reg.nodes(room)).toEqual([]);
      expect(await reg.count(room)).toBe(0);
    });

    it('drop forgets the room on every node', async () => {
      const reg = await open();
      const room = unique('room');
      const other = unique('room');
      await reg.join(room, m('a', 'n1'));
      await reg.join(room, m('b', 'n2'));
      await reg.join(other, m('a', 'n1'));
      await reg.drop(room);
      expect(await reg.nodes(room)).toEqual([]);
      expect(await reg.isMember(room, m('a', 'n1'))).toBe(false);
      expect(await reg.nodes(other)).toEqual(['n1']);
      await reg.drop(unique('never')); // unknown: no error
    });

    it("expires a node's membership that is not refreshed; refresh keeps it, and never revives", async () => {
      const reg = await open(300);
      const room = unique('room');
      await reg.join(room, m('a', 'live'));
      await reg.join(room, m('b', 'dead'));
      const notHeld = unique('not-held');
      for (let i = 0; i < 4; i++) {
        await sleep(120);
        // The room it holds is refreshed; the one it does not is named, not revived.
        const err = await reg.refresh('live', [room, notHeld]).then(
          () => null,
          (e: unknown) => e,
        );
        expect(lostChatrooms(err)).toEqual([notHeld]);
      }
      expect(await reg.nodes(room)).toEqual(['live']);
      expect(await reg.isMember(room, m('b', 'dead'))).toBe(false);
      expect(await reg.count(room)).toBe(1);
      // An expired entry stays gone after a late refresh (which names it), and a new join starts it afresh.
      await expect(reg.refresh('dead', [room])).rejects.toSatisfy((e) => lostChatrooms(e)?.[0] === room);
      await reg.refresh('live', [room]);
      expect(await reg.nodes(room)).toEqual(['live']);
      await reg.join(room, m('c', 'dead'));
      expect(await reg.isMember(room, m('b', 'dead'))).toBe(false);
      expect(await reg.count(room)).toBe(2);
    });

    it('a node whose membership is gone hears it on refresh, and its joins rebuild it', async () => {
      const reg = await open();
      const [kept, wiped] = [unique('kept'), unique('wiped')];
      await reg.join(kept, m('a', 'n1'));
      await reg.join(wiped, m('a', 'n1'));
      await reg.join(wiped, m('b', 'n1'));
      await reg.drop(wiped); // as Redis's FLUSHALL does to every room
      const err = await reg.refresh('n1', [kept, wiped, wiped]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(lostChatrooms(err)).toEqual([wiped]);
      expect(await reg.isMember(wiped, m('a', 'n1'))).toBe(false);
      // The edge joins what it holds again (services/edge/src/edge.ts).
      await reg.join(wiped, m('a', 'n1'));
      await reg.join(wiped, m('b', 'n1'));
      await reg.refresh('n1', [kept, wiped]);
      expect(await reg.nodes(wiped)).toEqual(['n1']);
      expect(await reg.count(wiped)).toBe(2);
      expect(await reg.isMember(kept, m('a', 'n1'))).toBe(true);
    });

    it('close is safe twice', async () => {
      const reg = await factory({ ttlMs: 1000 });
      await reg.close();
      await reg.close();
    });
  });
}
