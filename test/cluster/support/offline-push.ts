/**
 * A reader of a cluster's offline-push topic (protocol.md §6 Offline push hook; docs/protocol.md
 * §8.11): one kafkajs consumer, started before the scenarios send, that keeps every record it has
 * read, decoded as the documented protobuf record (im.internal.OfflinePush). Read from the beginning of the topic by a new consumer
 * group: the topic is unique to the cluster (its prefix), so nothing is missed however late the
 * group join completes, and nothing of another run is read.
 */
import { randomBytes } from 'node:crypto';
import { OfflinePush as OfflinePushRecord } from '@im/protocol/internal';
import kafkajs from 'kafkajs';
import type { OfflinePush } from '../../../packages/core/src/index.js';

const { Kafka, logLevel } = kafkajs;

export interface OfflinePushReader {
  readonly topic: string;
  /** The records read so far for userId, in topic order (one partition: the order produced). */
  records(userId: string): OfflinePush[];
  close(): Promise<void>;
}

/** The record as published (proto/internal/delivery.proto OfflinePush); throws on bytes that are not one. */
export function decodeOfflinePush(bytes: Uint8Array): OfflinePush {
  const r = OfflinePushRecord.decode(bytes);
  return { ...r, conversation: r.conversation ?? { type: 0, target: '' } };
}

export async function readOfflinePushes(opts: {
  brokers: string[];
  topic: string;
  /** How long connecting and subscribing may take. */
  timeoutMs?: number;
}): Promise<OfflinePushReader> {
  const kafka = new Kafka({
    clientId: 'conformance-offline-push',
    brokers: opts.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { retries: 3 },
  });
  const records: OfflinePush[] = [];
  const unreadable: string[] = [];
  const admin = kafka.admin();
  const consumer = kafka.consumer({
    groupId: `conformance-offline-push-${randomBytes(4).toString('hex')}`,
    // A departed test consumer should not hold a group open for the default 30 s.
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 200,
  });
  const start = async () => {
    await admin.connect();
    try {
      // The message service creates the topic on its first offline record (one partition, as
      // here; packages/core/src/bus/bus.kafka.ts ensureTopic); subscribing needs it to exist now.
      await admin.createTopics({ topics: [{ topic: opts.topic, numPartitions: 1 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    await consumer.connect();
    await consumer.subscribe({ topics: [opts.topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const bytes = message.value ?? new Uint8Array(0);
        try {
          records.push(decodeOfflinePush(bytes));
        } catch {
          unreadable.push(Buffer.from(bytes).toString('hex'));
        }
      },
    });
  };
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      start(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`offline-push reader: no subscription to ${opts.topic} in ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    await consumer.disconnect().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
  let closing: Promise<void> | undefined;
  return {
    topic: opts.topic,
    records(userId) {
      // A record that is not an OfflinePush breaks the documented format: fail the scenario that looks.
      if (unreadable.length > 0)
        throw new Error(`unreadable offline-push records: ${unreadable.join(' | ')}`);
      return records.filter((r) => r.userId === userId);
    },
    close() {
      closing ??= consumer.disconnect().catch(() => {});
      return closing;
    },
  };
}
