/**
 * The example consumer of the offline-push topic (examples/offline-push-consumer.ts): its line
 * format, and (with real Kafka) that it prints what the KafkaBus publishes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConversationType } from '@im/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { describeInfra, requireInfra, uniqueTopicPrefix } from '../../../test/support/infra.js';
import { describeRecord } from '../examples/offline-push-consumer.js';
import { KafkaBus } from '../src/bus/bus.kafka.js';
import { waitFor } from './support.js';

const EXAMPLE = fileURLToPath(new URL('../examples/offline-push-consumer.ts', import.meta.url));

describe('offline-push example: describeRecord', () => {
  it('prints who, from whom, where, the mention and the preview', () => {
    const base = { userId: 'bob', messageUid: 42n, from: 'alice', pushContent: 'hi', mentioned: false };
    expect(describeRecord({ ...base, conversation: { type: ConversationType.SINGLE, target: 'bob' } })).toBe(
      'push to bob: alice: hi  [uid 42]',
    );
    expect(
      describeRecord({
        ...base,
        pushContent: '',
        mentioned: true,
        conversation: { type: ConversationType.GROUP, target: 'team' },
      }),
    ).toBe('push to bob: alice in group team (mentions you): (no preview)  [uid 42]');
  });
});

describeInfra('offline-push example against real Kafka', () => {
  const procs: ChildProcess[] = [];
  const buses: KafkaBus[] = [];
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(buses.map((b) => b.close()));
  });

  it('prints one line per record the bus publishes on <prefix>offline-push', {
    timeout: 60_000,
  }, async () => {
    const { kafkaBrokers } = requireInfra();
    const prefix = uniqueTopicPrefix('push');
    const bus = new KafkaBus({ brokers: kafkaBrokers, topicPrefix: prefix });
    buses.push(bus);
    // The topic exists before the consumer starts (the bus creates it on first publish).
    await bus.publishOfflinePush([
      {
        userId: 'carol',
        messageUid: 2n ** 63n + 5n,
        conversation: { type: ConversationType.GROUP, target: 'team' },
        from: 'alice',
        pushContent: 'alice: lunch?',
        mentioned: true,
      },
    ]);
    const child = spawn(process.execPath, ['--import', 'tsx', EXAMPLE], {
      env: {
        ...process.env,
        KAFKA_BROKERS: kafkaBrokers.join(','),
        IM_KAFKA_TOPIC_PREFIX: prefix,
        GROUP_ID: `${prefix}example`,
        FROM_BEGINNING: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    procs.push(child);
    const out: string[] = [];
    child.stdout
      ?.setEncoding('utf8')
      .on('data', (chunk: string) => out.push(...chunk.split('\n').filter(Boolean)));
    await waitFor(() => out.length > 0, 45_000, 'a printed record');
    expect(out[0]).toBe(
      `push to carol: alice in group team (mentions you): alice: lunch?  [uid ${2n ** 63n + 5n}]`,
    );
  });
});
