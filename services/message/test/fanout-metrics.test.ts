/**
 * im_fanout_queue_depth and im_fanout_dropped_total read from a real MessageService (memory
 * adapters) whose bus is held: messages accepted while the bus is stuck wait in the queue.
 */
import type { DeliveryBus } from '@im/core';
import { createRegistry } from '@im/rpc';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../packages/client/test/helpers/wait.js';
import { brokenBus, caller, messageHarness, msg } from '../../../packages/core/test/harness.js';
import { FANOUT_DEPTH_METRIC, FANOUT_DROPPED_METRIC, registerFanoutMetrics } from '../src/fanout-metrics.js';

/** A bus whose publish waits until release(). */
function heldBus(): DeliveryBus & { release(): void; publishes: number } {
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  const bus = {
    ...brokenBus('hang'),
    publishes: 0,
    async publish() {
      bus.publishes++;
      await gate;
    },
    publishOfflinePush: async () => gate,
    release: () => open(),
  };
  return bus;
}

async function value(registry: ReturnType<typeof createRegistry>, name: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value ?? Number.NaN;
}

describe('fan-out metrics', () => {
  it('shows the jobs waiting behind a stuck bus, and 0 once it moves', async () => {
    const bus = heldBus();
    const h = await messageHarness({ bus });
    const registry = createRegistry();
    registerFanoutMetrics(registry, () => h.service.fanoutStats());
    await h.online('bob');
    expect(await value(registry, FANOUT_DEPTH_METRIC)).toBe(0);

    const alice = caller('alice');
    for (let i = 1; i <= 5; i++) await h.service.send(alice, msg({ messageId: BigInt(i) }), { e2e: false });
    // The first job is in the worker's hands (its publish is held); the other four wait.
    await waitFor('first publish', () => bus.publishes === 1);
    expect(await value(registry, FANOUT_DEPTH_METRIC)).toBe(4);
    expect(await value(registry, FANOUT_DROPPED_METRIC)).toBe(0);
    expect(await registry.metrics()).toContain(`${FANOUT_DEPTH_METRIC} 4`);

    bus.release();
    await h.service.drain();
    expect(await value(registry, FANOUT_DEPTH_METRIC)).toBe(0);
  });
});
