/** Three hubs over a Redis Cluster's sharded pub/sub (REDIS_CLUSTER_NODES). */
import { clusterAdmin, REDIS_CLUSTER_NODES, withService } from '../broker-helpers.js';
import { ackLiveSuite } from './ack-live.suite.js';
import { clusterSuite, type ClusterTarget } from './cluster.suite.js';

withService('cluster over Redis Cluster', 'REDIS_CLUSTER_NODES', REDIS_CLUSTER_NODES, (list) => {
  const target: ClusterTarget = {
    name: 'Redis Cluster',
    config: { redisClusterNodes: list },
    admin: async () => {
      const admin = clusterAdmin(list);
      await new Promise<void>((resolve, reject) => admin.once('ready', resolve).once('error', reject));
      return admin;
    },
  };
  clusterSuite(target);
  ackLiveSuite(target);
});
