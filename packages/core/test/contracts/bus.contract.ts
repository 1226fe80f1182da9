import { afterEach, describe, expect, it } from 'vitest';
import { encodeForDelivery } from '../../src/message/wire.js';
import type { Delivery, DeliveryBus, OfflinePush, Subscription } from '../../src/ports.js';
import { content, group, single, stored, unique, waitFor } from '../support.js';

export interface BusHarness {
  bus: DeliveryBus;
  /** Offline-push records published so far whose userId starts with `prefix` (Kafka: read from the topic). */
  offlinePushes(prefix: string): Promise<OfflinePush[]>;
  close(): Promise<void>;
}

/**
 * The DeliveryBus contract (protocol.md §6 Delivery: only to the edge node that holds the device,
 * in order; Offline push hook). Runs against memory and Kafka; node and user ids are unique per
 * test. Subscribe before publishing: what was published to a node before it subscribed is not
 * part of the contract.
 */
export function deliveryBusContract(name: string, factory: () => Promise<BusHarness>): void {
  describe(`DeliveryBus contract: ${name}`, () => {
    const harnesses: BusHarness[] = [];
    const subs: Subscription[] = [];
    const open = async () => {
      const h = await factory();
      harnesses.push(h);
      return h;
    };
    const collect = async (bus: DeliveryBus, nodeId: string) => {
      const got: Delivery[] = [];
      subs.push(
        await bus.subscribe(nodeId, async (batch) => {
          got.push(...batch);
        }),
      );
      return got;
    };
    afterEach(async () => {
      await Promise.all(subs.splice(0).map((s) => s.close()));
      await Promise.all(harnesses.splice(0).map((h) => h.close()));
    });

    it('delivers to the addressed node only, every kind intact', async () => {
      const { bus } = await open();
      const [n1, n2] = [unique('n1'), unique('n2')];
      const [got1, got2] = [await collect(bus, n1), await collect(bus, n2)];
      const message = encodeForDelivery(
        stored({
          uid: 2n ** 62n + 5n,
          messageId: 2n ** 64n - 1n,
          from: 'alice',
          to: 'bob',
          conversation: single('bob'),
          content: content({
            data: new Uint8Array([0, 1, 255]),
            mentionedTargets: ['bob'],
            mentionedType: 1,
          }),
          e2e: true,
        }),
      );
      const toN1: Delivery[] = [
        { kind: 'message', nodeId: n1, userId: 'bob', message, seq: 7 },
        { kind: 'notify', nodeId: n1, userId: 'bob', head: 9, excludeDeviceId: 'd1' },
      ];
      const toN2: Delivery[] = [
        { kind: 'kick', nodeId: n2, userId: 'bob', deviceId: 'd2', epoch: 3 },
        { kind: 'message', nodeId: n2, userId: 'alice', message, seq: 4, excludeDeviceId: 'phone' },
      ];
      await bus.publish([toN1[0] as Delivery, toN2[0] as Delivery, toN1[1] as Delivery, toN2[1] as Delivery]);
      await waitFor(() => got1.length >= 2 && got2.length >= 2, 10_000, 'deliveries');
      expect(got1).toEqual(toN1);
      expect(got2).toEqual(toN2);
    });

    it('keeps publish order per user', async () => {
      const { bus } = await open();
      const node = unique('n');
      const got = await collect(bus, node);
      const users = ['u1', 'u2', 'u3'];
      for (let round = 0; round < 20; round++) {
        await bus.publish(
          users.flatMap((userId) => [
            { kind: 'notify' as const, nodeId: node, userId, head: round * 2 + 1 },
            { kind: 'notify' as const, nodeId: node, userId, head: round * 2 + 2 },
          ]),
        );
      }
      await waitFor(() => got.length >= 120, 10_000, '120 deliveries');
      for (const userId of users) {
        const heads = got
          .filter((d) => d.kind !== 'room' && d.userId === userId)
          .map((d) => (d.kind === 'notify' ? d.head : -1));
        expect(heads).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      }
    });

    it('stops delivering to a closed subscription', async () => {
      const { bus } = await open();
      const node = unique('n');
      const got: Delivery[] = [];
      const sub = await bus.subscribe(node, async (batch) => {
        got.push(...batch);
      });
      await bus.publish([{ kind: 'notify', nodeId: node, userId: 'u', head: 1 }]);
      await waitFor(() => got.length === 1, 10_000, 'first delivery');
      await sub.close();
      await bus.publish([{ kind: 'notify', nodeId: node, userId: 'u', head: 2 }]);
      await new Promise((r) => setTimeout(r, 300));
      expect(got.map((d) => (d.kind === 'notify' ? d.head : 0))).toEqual([1]);
    });

    it('publishes offline-push records', async () => {
      const h = await open();
      const p = unique('push');
      const records: OfflinePush[] = [
        {
          userId: `${p}-bob`,
          messageUid: 2n ** 62n + 1n,
          conversation: single(`${p}-bob`),
          from: 'alice',
          pushContent: 'alice: hi',
          mentioned: false,
        },
        {
          userId: `${p}-carol`,
          messageUid: 2n ** 62n + 2n,
          conversation: group('g1'),
          from: 'alice',
          pushContent: '',
          mentioned: true,
        },
      ];
      await h.bus.publishOfflinePush(records);
      let got: OfflinePush[] = [];
      await waitFor(
        async () => {
          got = await h.offlinePushes(p);
          return got.length >= 2;
        },
        10_000,
        'offline pushes',
      );
      expect(got).toEqual(records);
    });
  });
}
