import { codec, type Message } from '@im/protocol';
import type { Caller } from '../src/api.js';
import { MemoryBus } from '../src/bus/bus.memory.js';
import { ManualClock } from '../src/clock.js';
import { defaultConfig } from '../src/config.js';
import { MemoryGroupDirectory } from '../src/groups.js';
import { silentLogger } from '../src/log.js';
import { MessageService, type MessageServiceDeps } from '../src/message/message.service.js';
import type { Delivery, DeliveryBus, RouteStore } from '../src/ports.js';
import { MemoryRouteStore } from '../src/routing/routes.memory.js';
import { MemoryMessageStore } from '../src/store/store.memory.js';
import { SnowflakeUid } from '../src/uid.js';
import { content, single } from './support.js';

/** A MessageService on memory adapters, with every delivery per node recorded. */
export async function messageHarness(over: Partial<MessageServiceDeps> = {}) {
  const clock = new ManualClock(Date.UTC(2025, 0, 1));
  const store = new MemoryMessageStore();
  const routes = new MemoryRouteStore({ ttlMs: 60_000, clock });
  const bus = new MemoryBus();
  const groups = new MemoryGroupDirectory();
  // No fan-out linger: each test sees its deliveries at once (fanout.test.ts covers the linger).
  const config = {
    ...defaultConfig().message,
    pushMaxGroupMembers: 5,
    pushMaxBodyBytes: 1024,
    fanoutLingerMs: 0,
  };
  const deps: MessageServiceDeps = {
    store,
    routes,
    bus,
    groups,
    clock,
    config,
    uid: new SnowflakeUid(1, { now: () => clock.now() }),
    logger: silentLogger(),
    ...over,
  };
  const service = new MessageService(deps);
  const delivered = new Map<string, Delivery[]>();
  const nodes = ['n1', 'n2'];
  for (const n of nodes) {
    delivered.set(n, []);
    await bus.subscribe(n, async (batch) => {
      delivered.get(n)?.push(...batch);
    });
  }
  /** Logs a device in on a node; returns its Caller. */
  const online = async (userId: string, deviceId = 'd1', nodeId = 'n1'): Promise<Caller> => {
    const { route } = await (deps.routes as RouteStore).register({ userId, deviceId, nodeId, platform: 0 });
    return { userId, deviceId, nodeId, epoch: route.epoch };
  };
  /** Everything delivered so far, once fan-out and the bus have drained. */
  const deliveries = async (): Promise<Delivery[]> => {
    await service.drain();
    await new Promise((r) => setTimeout(r, 0));
    return nodes.flatMap((n) => delivered.get(n) ?? []);
  };
  return { service, store, routes, bus, groups, clock, config, deps, online, deliveries, delivered };
}

export const caller = (userId: string, deviceId = 'd1', nodeId = 'n1'): Caller => ({
  userId,
  deviceId,
  nodeId,
  epoch: 1,
});

/** An MS body (MessageApi.send takes the body as the client sent it). */
export function msg(over: Partial<Message> = {}): Uint8Array {
  return codec.Message.encode({
    messageId: 0n,
    messageContent: content(),
    conversation: single('bob'),
    from: '',
    to: '',
    messageUid: 0n,
    serverTime: 0,
    seq: 0,
    ...over,
  });
}

/** The message a delivery carries, decoded (the fan-out hands edges its encoding). */
export function delivered(d: Delivery | undefined): Message {
  if (!d || (d.kind !== 'message' && d.kind !== 'room'))
    throw new Error(`not a message delivery: ${d?.kind}`);
  return codec.Message.decode(d.message.bytes);
}

/** A bus that fails (or hangs) every publish: fan-out failures must never reach the sender. */
export function brokenBus(mode: 'throw' | 'hang'): DeliveryBus {
  const fail = () => (mode === 'throw' ? Promise.reject(new Error('bus down')) : new Promise<void>(() => {}));
  return {
    publish: fail,
    publishOfflinePush: fail,
    subscribe: async () => ({ close: async () => {} }),
    close: async () => {},
  };
}
