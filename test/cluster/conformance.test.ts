/**
 * The conformance suite (test/conformance/suite.ts) against the cluster: two edges, the message,
 * presence and storage services as separate OS processes, on the test Redis, Kafka and
 * PostgreSQL. Scenarios put senders on edge 1 and recipients on edge 2, so pushes and kicks cross
 * nodes through Kafka. The offline-push records are read from the cluster's own topic by a
 * consumer that starts before any scenario sends.
 */
import { conformanceEnv, conformanceSuite } from '../conformance/suite.js';
import { describeInfra } from '../support/infra.js';
import { clusterTarget, startTestCluster } from './support/cluster.js';
import { readOfflinePushes } from './support/offline-push.js';

describeInfra('cluster', () => {
  conformanceSuite('cluster (2 edges)', async () => {
    const cluster = await startTestCluster({ label: 'conformance', env: conformanceEnv() });
    try {
      const pushes = await readOfflinePushes({
        brokers: cluster.kafkaBrokers,
        topic: cluster.offlinePushTopic,
      });
      return clusterTarget(cluster, pushes);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  });
});
