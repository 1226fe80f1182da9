/**
 * The conformance suite (test/conformance/suite.ts) against the cluster: two edges, the message,
 * presence and storage services as separate OS processes, on the test Redis, Kafka and
 * PostgreSQL. Scenarios put senders on edge 1 and recipients on edge 2, so pushes and kicks cross
 * nodes through Kafka.
 */
import { conformanceEnv, conformanceSuite } from '../conformance/suite.js';
import { describeInfra } from '../support/infra.js';
import { clusterTarget, startTestCluster } from './support/cluster.js';

describeInfra('cluster', () => {
  conformanceSuite('cluster (2 edges)', async () =>
    clusterTarget(await startTestCluster({ label: 'conformance', env: conformanceEnv() })),
  );
});
