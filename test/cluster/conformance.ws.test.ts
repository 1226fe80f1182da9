/**
 * The conformance suite against the cluster over WebSocket (protocol.md §1 WebSocket transport):
 * the same two edges and services as test/cluster/conformance.test.ts, clients on the edges'
 * WebSocket ports; scenarios that mix transports put the other device on TCP.
 */
import { conformanceEnv, conformanceSuite } from '../conformance/suite.js';
import { describeInfra } from '../support/infra.js';
import { clusterTarget, startTestCluster } from './support/cluster.js';
import { readOfflinePushes } from './support/offline-push.js';

describeInfra('cluster', () => {
  conformanceSuite('cluster over WebSocket (2 edges)', async () => {
    const cluster = await startTestCluster({ label: 'conformance_ws', env: conformanceEnv() });
    try {
      const pushes = await readOfflinePushes({
        brokers: cluster.kafkaBrokers,
        topic: cluster.offlinePushTopic,
      });
      return clusterTarget(cluster, pushes, 'ws');
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  });
});
