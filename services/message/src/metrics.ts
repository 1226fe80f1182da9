/**
 * The message service's /metrics (issue item 6), as decorators around the ports it already uses,
 * so MessageService itself stays free of prom-client:
 *   im_message_send_seconds{status}              MS handled (stored + fan-out queued), by outcome
 *   im_fanout_deliveries_total{kind}             deliveries handed to the bus (message, notify, room, kick)
 *   im_kafka_produce_total{topic,result}         records produced; topic = deliver | offline-push
 *   im_offline_push_total{result}                offline-push records (protocol.md §6 Offline push hook)
 * The topic label is the topic's role, not its name: node topics are one per edge and would make
 * the label set grow with every edge that ever ran.
 */
import type {
  Caller,
  Delivery,
  DeliveryBus,
  MessageApi,
  OfflinePush,
  SendOptions,
  Subscription,
} from '@im/core';
import { ImError, type SendAck, Status, statusName } from '@im/protocol';
import { Counter, Histogram, type Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A status label from whatever a call threw: its contract status, else INTERNAL. */
export function outcome(err: unknown): string {
  return statusName(err instanceof ImError ? err.status : Status.INTERNAL);
}

function counter(registry: Registry, name: string, help: string, labelNames: string[]) {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<string>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** A DeliveryBus that counts what passes through it (message and presence services). */
export function instrumentBus(bus: DeliveryBus, registry: Registry): DeliveryBus {
  const deliveries = counter(
    registry,
    'im_fanout_deliveries_total',
    'Deliveries handed to the bus for the edge nodes, by kind.',
    ['kind'],
  );
  const produced = counter(
    registry,
    'im_kafka_produce_total',
    'Records produced to Kafka, by topic role (deliver, offline-push) and result (ok, error).',
    ['topic', 'result'],
  );
  const offline = counter(
    registry,
    'im_offline_push_total',
    'Offline-push records published for recipients with no online device, by result.',
    ['result'],
  );
  return {
    async publish(batch: Delivery[]): Promise<void> {
      if (batch.length === 0) return bus.publish(batch);
      for (const d of batch) deliveries.inc({ kind: d.kind });
      try {
        await bus.publish(batch);
        produced.inc({ topic: 'deliver', result: 'ok' }, batch.length);
      } catch (err) {
        produced.inc({ topic: 'deliver', result: 'error' }, batch.length);
        throw err;
      }
    },
    async publishOfflinePush(records: OfflinePush[]): Promise<void> {
      if (records.length === 0) return bus.publishOfflinePush(records);
      try {
        await bus.publishOfflinePush(records);
        produced.inc({ topic: 'offline-push', result: 'ok' }, records.length);
        offline.inc({ result: 'ok' }, records.length);
      } catch (err) {
        produced.inc({ topic: 'offline-push', result: 'error' }, records.length);
        offline.inc({ result: 'error' }, records.length);
        throw err;
      }
    },
    subscribe: (nodeId: string, handler: (batch: Delivery[]) => Promise<void>): Promise<Subscription> =>
      bus.subscribe(nodeId, handler),
    close: () => bus.close(),
  };
}

/** The MessageApi served over gRPC, with the send latency recorded by outcome. */
export function instrumentMessageApi(api: MessageApi, registry: Registry): MessageApi {
  const send =
    (registry.getSingleMetric('im_message_send_seconds') as Histogram<'status'> | undefined) ??
    new Histogram({
      name: 'im_message_send_seconds',
      help: 'Send (MS) handled by the message service: checks, uid, durable append, fan-out queued; by status.',
      labelNames: ['status'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  return {
    async send(caller: Caller, body: Uint8Array, opts: SendOptions): Promise<SendAck> {
      const end = send.startTimer();
      try {
        const ack = await api.send(caller, body, opts);
        end({ status: 'OK' });
        return ack;
      } catch (err) {
        end({ status: outcome(err) });
        throw err;
      }
    },
    pull: (caller, req) => api.pull(caller, req),
    recall: (caller, uid) => api.recall(caller, uid),
    head: (userId) => api.head(userId),
    heads: (userIds) => api.heads(userIds),
    joinChatroom: (caller, id) => api.joinChatroom(caller, id),
    quitChatroom: (caller, id) => api.quitChatroom(caller, id),
    chatroomHeartbeat: (nodeId, ids) => api.chatroomHeartbeat(nodeId, ids),
  };
}
