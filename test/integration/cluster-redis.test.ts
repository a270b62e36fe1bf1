/** Three hubs over one plain Redis (REDIS_URL). */
import { REDIS_URL, redisAdmin, withService } from '../broker-helpers.js';
import { ackLiveSuite } from './ack-live.suite.js';
import { clusterSuite, type ClusterTarget } from './cluster.suite.js';

withService('cluster over Redis', 'REDIS_URL', REDIS_URL, (url) => {
  const target: ClusterTarget = { name: 'Redis', config: { redisUrl: url }, admin: async () => redisAdmin(url) };
  clusterSuite(target);
  ackLiveSuite(target);
});
