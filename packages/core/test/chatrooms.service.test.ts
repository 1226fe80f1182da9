/**
 * protocol.md §6 Chatrooms through the MessageService: CRJ / CRQ, the send check, one delivery
 * per edge node with members, seq 0, nothing stored, no offline push, idle eviction. And the
 * admin kick of PresenceService (§7).
 */
import { ContentType, ConversationType, ImError, Status } from '@im/protocol';
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../src/bus/bus.memory.js';
import { MemoryChatroomDirectory } from '../src/chatrooms/directory.memory.js';
import { MemoryChatroomRegistry } from '../src/chatrooms/registry.memory.js';
import { ManualClock } from '../src/clock.js';
import { silentLogger } from '../src/log.js';
import { ChatroomService } from '../src/message/chatrooms.js';
import type { Delivery } from '../src/ports.js';
import { MemoryPublicKeyStore } from '../src/presence/keys.memory.js';
import { PresenceService } from '../src/presence/presence.service.js';
import { MemoryRouteStore } from '../src/routing/routes.memory.js';
import { delivered, messageHarness, msg } from './harness.js';
import { content, waitFor } from './support.js';

const noE2e = { e2e: false };
const room = (target: string) => ({ type: ConversationType.CHATROOM, target });
const IDLE_MS = 10 * 60_000;

async function chatroomHarness() {
  const clock = new ManualClock(Date.UTC(2025, 0, 1));
  const directory = new MemoryChatroomDirectory();
  const registry = new MemoryChatroomRegistry({ ttlMs: 60_000, clock });
  const chatrooms = new ChatroomService({
    directory,
    registry,
    idleEvictMs: IDLE_MS,
    clock,
    logger: silentLogger(),
  });
  const h = await messageHarness({ chatrooms, clock });
  return { ...h, clock, directory, registry, chatrooms };
}

async function statusOf(p: Promise<unknown>): Promise<number> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof ImError)) throw new Error(`expected an ImError, got ${String(e)}`);
  return e.status;
}

describe('chatrooms in the message service (protocol.md §6 Chatrooms)', () => {
  it('CRJ to an unknown room is NOT_FOUND; CRQ of one is too', async () => {
    const h = await chatroomHarness();
    const a = await h.online('alice');
    expect(await statusOf(h.service.joinChatroom(a, 'nope'))).toBe(Status.NOT_FOUND);
    expect(await statusOf(h.service.quitChatroom(a, 'nope'))).toBe(Status.NOT_FOUND);
  });

  it('sending without joining is FORBIDDEN; to an unknown room NOT_FOUND', async () => {
    const h = await chatroomHarness();
    await h.directory.createChatroom('live', h.clock.now());
    const a = await h.online('alice');
    expect(await statusOf(h.service.send(a, msg({ conversation: room('live') }), noE2e))).toBe(
      Status.FORBIDDEN,
    );
    expect(await statusOf(h.service.send(a, msg({ conversation: room('gone') }), noE2e))).toBe(
      Status.NOT_FOUND,
    );
    // Another device of a member is not a member.
    await h.service.joinChatroom(a, 'live');
    const a2 = await h.online('alice', 'd2');
    expect(await statusOf(h.service.send(a2, msg({ conversation: room('live') }), noE2e))).toBe(
      Status.FORBIDDEN,
    );
  });

  it('a message goes once to each node with members, with seq 0; nothing stored, no offline push', async () => {
    const h = await chatroomHarness();
    await h.directory.createChatroom('live', h.clock.now());
    const a = await h.online('alice', 'd1', 'n1');
    const members = [a];
    for (const [u, n] of [
      ['bob', 'n1'],
      ['carol', 'n2'],
      ['dave', 'n2'],
      ['erin', 'n2'],
    ] as const) {
      members.push(await h.online(u, 'd1', n));
    }
    for (const c of members) await h.service.joinChatroom(c, 'live');
    const ack = await h.service.send(a, msg({ conversation: room('live') }), noE2e);
    expect(ack.seq).toBe(0);
    expect(ack.messageUid).toBeGreaterThan(0n);
    const ds = await h.deliveries();
    expect(ds.map((d) => `${d.kind}@${d.nodeId}`).sort()).toEqual(['room@n1', 'room@n2']);
    const d = ds[0] as Delivery & { kind: 'room' };
    expect(d.roomId).toBe('live');
    expect(d.message).toMatchObject({ from: 'alice', fromDevice: 'd1' });
    expect(delivered(d).messageUid).toBe(ack.messageUid);
    expect(await h.store.get(ack.messageUid)).toBeNull();
    expect(await h.store.head('bob')).toBe(0);
    expect(h.bus.offlinePushes).toEqual([]);
    // Mentions are not checked against a member list in a room (there is none).
    const mention = content({ mentionedType: 1, mentionedTargets: ['anyone'] });
    await h.service.send(a, msg({ conversation: room('live'), messageContent: mention }), noE2e);
    // TYPING takes the same path.
    await h.service.send(
      a,
      msg({ conversation: room('live'), messageContent: content({ contentType: ContentType.TYPING }) }),
      noE2e,
    );
    expect((await h.deliveries()).filter((x) => x.kind === 'room')).toHaveLength(6);
  });

  it('after CRQ the node is no longer sent to; a quit of a room not joined is OK', async () => {
    const h = await chatroomHarness();
    await h.directory.createChatroom('live', h.clock.now());
    const a = await h.online('alice', 'd1', 'n1');
    const b = await h.online('bob', 'd1', 'n2');
    await h.service.joinChatroom(a, 'live');
    await h.service.joinChatroom(b, 'live');
    await h.service.quitChatroom(b, 'live');
    await h.service.quitChatroom(b, 'live');
    await h.service.send(a, msg({ conversation: room('live') }), noE2e);
    expect((await h.deliveries()).map((d) => d.nodeId)).toEqual(['n1']);
    expect(await statusOf(h.service.send(b, msg({ conversation: room('live') }), noE2e))).toBe(
      Status.FORBIDDEN,
    );
  });

  it('the edge heartbeat keeps membership alive past the TTL; without it, it expires', async () => {
    const h = await chatroomHarness();
    await h.directory.createChatroom('live', h.clock.now());
    const a = await h.online('alice', 'd1', 'n1');
    const b = await h.online('bob', 'd1', 'n2');
    await h.service.joinChatroom(a, 'live');
    await h.service.joinChatroom(b, 'live');
    for (let i = 0; i < 3; i++) {
      h.clock.advance(40_000);
      await h.service.chatroomHeartbeat('n1', ['live']);
    }
    expect(await h.registry.nodes('live')).toEqual(['n1']);
  });

  it('evicts a room idle for idleEvictMs; activity (send, heartbeat) keeps a room', async () => {
    const h = await chatroomHarness();
    await h.directory.createChatroom('idle', h.clock.now());
    await h.directory.createChatroom('busy', h.clock.now());
    const a = await h.online('alice');
    await h.service.joinChatroom(a, 'busy');
    // The edge heartbeats its rooms well within the membership TTL (60 s), as it does with its routes.
    for (let at = 0; at < IDLE_MS - 1000; ) {
      const step = Math.min(50_000, IDLE_MS - 1000 - at);
      h.clock.advance(step);
      at += step;
      await h.service.chatroomHeartbeat('n1', ['busy']);
    }
    await waitFor(async () => (await h.directory.getChatroom('busy'))?.lastActiveAt === h.clock.now());
    h.clock.advance(2000);
    expect(await h.chatrooms.evictIdle()).toEqual(['idle']);
    expect(await statusOf(h.service.joinChatroom(a, 'idle'))).toBe(Status.NOT_FOUND);
    expect(await h.directory.getChatroom('busy')).not.toBeNull();
    h.clock.advance(IDLE_MS + 1);
    expect(await h.chatrooms.evictIdle()).toEqual(['busy']);
    // Its membership went with it: a send is NOT_FOUND, not delivered.
    expect(await statusOf(h.service.send(a, msg({ conversation: room('busy') }), noE2e))).toBe(
      Status.NOT_FOUND,
    );
    expect(await h.registry.nodes('busy')).toEqual([]);
  });
});

describe('PresenceService.kick (protocol.md §7 admin kick)', () => {
  it('removes the route and sends a kick with its epoch to the owning node only', async () => {
    const bus = new MemoryBus();
    const routes = new MemoryRouteStore({ ttlMs: 60_000 });
    const presence = new PresenceService({
      routes,
      bus,
      keys: new MemoryPublicKeyStore(),
      logger: silentLogger(),
    });
    const got: Delivery[] = [];
    for (const n of ['n1', 'n2']) await bus.subscribe(n, async (b) => void got.push(...b));
    await presence.login({
      userId: 'alice',
      deviceId: 'phone',
      nodeId: 'n1',
      platform: 1,
      publicKey: new Uint8Array(),
    });
    const { epoch } = await presence.login({
      userId: 'alice',
      deviceId: 'laptop',
      nodeId: 'n2',
      platform: 4,
      publicKey: new Uint8Array(),
    });
    expect(await presence.kick('alice', 'laptop')).toBe(true);
    await waitFor(() => got.length === 1);
    expect(got).toEqual([{ kind: 'kick', nodeId: 'n2', userId: 'alice', deviceId: 'laptop', epoch }]);
    expect((await presence.devices('alice')).map((r) => r.deviceId)).toEqual(['phone']);
    expect(await presence.kick('alice', 'laptop')).toBe(false);
    expect(await presence.kick('nobody', 'x')).toBe(false);
  });
});
