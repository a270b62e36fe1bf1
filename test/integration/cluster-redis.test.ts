/** Three hubs over one plain Redis (REDIS_URL). */
import { REDIS_URL, redisAdmin, withService } from '../broker-helpers.js';
import { latencyProxy } from '../latency-proxy.js';
import { ackLiveSuite } from './ack-live.suite.js';
import { clusterSuite, type ClusterTarget } from './cluster.suite.js';

withService('cluster over Redis', 'REDIS_URL', REDIS_URL, (url) => {
  const target: ClusterTarget = { name: 'Redis', config: { redisUrl: url }, admin: async () => redisAdmin(url) };
  clusterSuite(target);
  ackLiveSuite(target);
  // One node 5 ms (each way) from Redis, the publishers next to it: without the fix nearly every trial misses.
  ackLiveSuite({
    ...target,
    name: 'Redis, the home node 5 ms away',
    farHome: async () => {
      const proxy = await latencyProxy(url, 5);
      return { config: { redisUrl: proxy.url }, close: () => proxy.close() };
    },
  });
});
