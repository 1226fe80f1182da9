/**
 * Helpers of the integration tests (the second test tier: real Redis, Kafka and PostgreSQL).
 * The backends come from `bash scripts/test.sh`, which starts them (test/infra/start.sh) and
 * exports their URLs; run with SKIP_INFRA=1 the integration suites are skipped instead.
 * Every test gets a unique key / topic / schema prefix, so runs and parallel files never collide.
 */
import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';

export interface InfraUrls {
  redisUrl: string;
  kafkaBrokers: string[];
  databaseUrl: string;
}

/** True when scripts/test.sh runs without backends (SKIP_INFRA=1). */
export const infraSkipped = process.env.SKIP_INFRA === '1';

/** `describe` for suites that need the backends: skipped (not failed) under SKIP_INFRA=1. */
export function describeInfra(name: string, fn: () => void): void {
  describe.skipIf(infraSkipped)(name, fn);
}

/** The backends' URLs; throws a clear error when the tests were not started by scripts/test.sh. */
export function requireInfra(): InfraUrls {
  const { REDIS_URL, KAFKA_BROKERS, DATABASE_URL } = process.env;
  const missing = Object.entries({ REDIS_URL, KAFKA_BROKERS, DATABASE_URL })
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length > 0) {
    throw new Error(
      `integration tests need ${missing.join(', ')}: run them through \`bash scripts/test.sh [path]\` ` +
        '(it starts Redis, Kafka and PostgreSQL), or set the URLs yourself, or SKIP_INFRA=1 to skip them',
    );
  }
  return {
    redisUrl: REDIS_URL as string,
    kafkaBrokers: (KAFKA_BROKERS as string)
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    databaseUrl: DATABASE_URL as string,
  };
}

/**
 * A prefix unique to this call: `t<time><random>_<label>_`, lower case, made of [a-z0-9_] only,
 * so it is valid as a Redis key prefix, in a Kafka topic name and as a PostgreSQL identifier.
 */
export function uniquePrefix(label = 'test'): string {
  const clean = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 24);
  return `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}_${clean}_`;
}

/** Redis key prefix, e.g. `t…_routes_:`. */
export function uniqueKeyPrefix(label?: string): string {
  return `${uniquePrefix(label)}:`;
}

/** Kafka topic prefix, e.g. `t…_bus_.` (topic names allow [a-zA-Z0-9._-]). */
export function uniqueTopicPrefix(label?: string): string {
  return `${uniquePrefix(label)}.`;
}

/** PostgreSQL schema name (an unquoted identifier of at most 63 bytes). */
export function uniqueSchema(label?: string): string {
  return uniquePrefix(label).replace(/_+$/, '').slice(0, 63);
}
