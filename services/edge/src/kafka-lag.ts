/**
 * im_kafka_consumer_lag: records waiting in this edge's node topic (`<prefix>deliver.<nodeId>`)
 * that its consumer has not finished (a record is one fan-out batch's deliveries for this node): the topic's end offset minus the group's committed offset,
 * summed over partitions. KafkaBus commits only after a batch was handled (pushes attempted), so a
 * growing lag is an edge that cannot keep up or a consumer that stalled — the dashboard and the
 * alert rules read it (deploy/grafana, deploy/prometheus).
 *
 * Read at scrape time from the brokers with an admin client of its own, bounded by `timeoutMs`; when
 * Kafka does not answer in time the last value stays and im_kafka_consumer_lag_errors_total counts it.
 * A partition with no committed offset yet (a group that has not handled its first batch) counts 0.
 */
import { type Admin, Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';

export const KAFKA_LAG_METRIC = 'im_kafka_consumer_lag';
export const KAFKA_LAG_ERRORS_METRIC = 'im_kafka_consumer_lag_errors_total';

export interface KafkaLagOptions {
  brokers: string[];
  /** The node topic this edge consumes (KafkaBus.nodeTopic(nodeId)). */
  topic: string;
  /** Its consumer group: KafkaBus names the group of a node topic after the topic. */
  groupId: string;
  /** Longest a scrape waits for the brokers. */
  timeoutMs: number;
  /** Extra kafkajs settings (ssl, sasl), as for the bus. */
  kafka?: Partial<KafkaConfig>;
}

export interface KafkaLag {
  /** The lag now (reads the brokers); what a scrape reports. */
  read(): Promise<number>;
  close(): Promise<void>;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Kafka did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function registerKafkaLag(registry: Registry, opts: KafkaLagOptions): KafkaLag {
  const kafka = new Kafka({
    clientId: 'im-edge-lag',
    brokers: opts.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: opts.timeoutMs,
    ...opts.kafka,
  });
  let admin: Admin | null = null;
  let connecting: Promise<Admin> | null = null;
  let closed = false;
  const connected = (): Promise<Admin> => {
    connecting ??= (async () => {
      const a = kafka.admin();
      await a.connect();
      admin = a;
      return a;
    })().catch((err: unknown) => {
      connecting = null;
      throw err;
    });
    return connecting;
  };

  const lagNow = async (): Promise<number> => {
    const a = await connected();
    const [ends, committed] = await Promise.all([
      a.fetchTopicOffsets(opts.topic),
      a.fetchOffsets({ groupId: opts.groupId, topics: [opts.topic] }),
    ]);
    const done = new Map<number, number>();
    for (const p of committed[0]?.partitions ?? []) done.set(p.partition, Number(p.offset));
    let lag = 0;
    for (const p of ends) {
      const at = done.get(p.partition) ?? -1;
      if (at >= 0) lag += Math.max(0, Number(p.high) - at);
    }
    return lag;
  };

  const errors = new Counter({
    name: KAFKA_LAG_ERRORS_METRIC,
    help: 'Scrapes that could not read the consumer lag from Kafka in time (the last value was kept).',
    registers: [registry],
  });
  let last = 0;
  const read = async (): Promise<number> => {
    if (closed) return last;
    try {
      last = await withTimeout(lagNow(), opts.timeoutMs);
    } catch {
      errors.inc();
    }
    return last;
  };
  new Gauge({
    name: KAFKA_LAG_METRIC,
    help: "Records (fan-out batches) in this edge's Kafka topic not yet handled by its consumer (end offset minus committed).",
    registers: [registry],
    async collect() {
      this.set(await read());
    },
  });
  return {
    read,
    async close() {
      closed = true;
      if (admin) await admin.disconnect();
      // A connect still under way is disconnected when it ends; closing does not wait for it.
      else void connecting?.then((a) => a.disconnect()).catch(() => {});
    },
  };
}
