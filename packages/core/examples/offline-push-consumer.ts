/**
 * Example consumer of the offline-push hook (protocol.md §6 Offline push hook): the records an
 * APNs / FCM bridge would turn into notifications. It only prints them, one line each.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 node --import tsx packages/core/examples/offline-push-consumer.ts
 *
 * Env: KAFKA_BROKERS (comma-separated, default 127.0.0.1:9092), IM_KAFKA_TOPIC_PREFIX (default
 * `im.`: the topic is `<prefix>offline-push`), GROUP_ID (default `offline-push-example`; a new
 * group starts at the end of the topic unless FROM_BEGINNING=1).
 *
 * Record: protobuf `im.internal.OfflinePush` (packages/protocol/proto/internal/delivery.proto),
 * keyed by userId: userId, messageUid (uint64), conversation { type 0 | 1, target "alice" |
 * "<groupId>" }, from, pushContent, mentioned. A bridge in another language compiles that .proto.
 * One record per recipient with no online device; none for TYPING or chatroom messages.
 */
import { OfflinePush } from '@im/protocol/internal';
import { Kafka, logLevel } from 'kafkajs';

type OfflinePushRecord = OfflinePush;

const CONVERSATION = ['single', 'group', 'chatroom'];

/** One printable line per record; what a push bridge would map to a notification. */
export function describeRecord(r: OfflinePushRecord): string {
  const c = r.conversation ?? { type: 0, target: '' };
  const where = c.type === 0 ? '' : ` in ${CONVERSATION[c.type] ?? 'conversation'} ${c.target}`;
  const mention = r.mentioned ? ' (mentions you)' : '';
  const text = r.pushContent || '(no preview)';
  return `push to ${r.userId}: ${r.from}${where}${mention}: ${text}  [uid ${r.messageUid}]`;
}

async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
  const topic = `${process.env.IM_KAFKA_TOPIC_PREFIX ?? 'im.'}offline-push`;
  const kafka = new Kafka({ clientId: 'offline-push-example', brokers, logLevel: logLevel.WARN });
  const consumer = kafka.consumer({ groupId: process.env.GROUP_ID ?? 'offline-push-example' });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: process.env.FROM_BEGINNING === '1' });
  await consumer.run({
    eachMessage: async ({ message }) => {
      try {
        const record = OfflinePush.decode(message.value ?? new Uint8Array(0));
        process.stdout.write(`${describeRecord(record)}\n`);
      } catch (err) {
        process.stderr.write(`skipping an unreadable record: ${(err as Error).message}\n`);
      }
    },
  });
  process.stderr.write(`consuming ${topic} from ${brokers.join(',')} — Ctrl-C to stop\n`);
  const stop = () => void consumer.disconnect().finally(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(
      `offline-push consumer failed: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  });
}
