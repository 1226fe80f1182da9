import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../src/bus/bus.memory.js';
import type { Delivery, OfflinePush } from '../src/ports.js';
import { deliveryBusContract } from './contracts/bus.contract.js';
import { single, waitFor } from './support.js';

deliveryBusContract('memory', async () => {
  const bus = new MemoryBus();
  return {
    bus,
    offlinePushes: async (prefix) => bus.offlinePushes.filter((r) => r.userId.startsWith(prefix)),
    close: () => bus.close(),
  };
});

describe('MemoryBus', () => {
  it('drops deliveries published before the node subscribed, like an absent edge', async () => {
    const bus = new MemoryBus();
    await bus.publish([{ kind: 'notify', nodeId: 'n1', userId: 'u', head: 1 }]);
    const got: Delivery[] = [];
    await bus.subscribe('n1', async (b) => {
      got.push(...b);
    });
    await bus.publish([{ kind: 'notify', nodeId: 'n1', userId: 'u', head: 2 }]);
    await waitFor(() => got.length > 0);
    expect(got).toEqual([{ kind: 'notify', nodeId: 'n1', userId: 'u', head: 2 }]);
  });

  it('waits for a handler before giving it the next batch, and survives a throwing handler', async () => {
    const errors: unknown[] = [];
    const bus = new MemoryBus({ onHandlerError: (e) => errors.push(e) });
    const seen: number[] = [];
    let active = 0;
    await bus.subscribe('n', async (batch) => {
      active++;
      expect(active).toBe(1);
      await new Promise((r) => setTimeout(r, 5));
      for (const d of batch) seen.push(d.kind === 'notify' ? d.head : 0);
      active--;
      if (seen.length === 1) throw new Error('boom');
    });
    await bus.publish([{ kind: 'notify', nodeId: 'n', userId: 'u', head: 1 }]);
    for (let i = 2; i <= 5; i++) await bus.publish([{ kind: 'notify', nodeId: 'n', userId: 'u', head: i }]);
    await waitFor(() => seen.length === 5);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(errors).toHaveLength(1);
  });

  it('keeps offline pushes bounded and calls the listener', async () => {
    const heard: OfflinePush[][] = [];
    const bus = new MemoryBus({ keepOfflinePushes: 3, onOfflinePush: (r) => heard.push(r) });
    const rec = (i: number): OfflinePush => ({
      userId: `u${i}`,
      messageUid: BigInt(i),
      conversation: single(`u${i}`),
      from: 'a',
      pushContent: '',
      mentioned: false,
    });
    await bus.publishOfflinePush([rec(1), rec(2)]);
    await bus.publishOfflinePush([rec(3), rec(4)]);
    expect(bus.offlinePushes.map((r) => r.userId)).toEqual(['u2', 'u3', 'u4']);
    expect(heard).toHaveLength(2);
  });

  it('refuses to publish after close; close is safe twice', async () => {
    const bus = new MemoryBus();
    await bus.close();
    await bus.close();
    await expect(bus.publish([])).rejects.toThrow(/closed/);
  });
});
