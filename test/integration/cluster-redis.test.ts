/** Three hubs over one plain Redis (REDIS_URL). */
import { REDIS_URL, redisAdmin, withService } from '../broker-helpers.js';
import { clusterSuite } from './cluster.suite.js';

withService('cluster over Redis', 'REDIS_URL', REDIS_URL, (url) => {
  clusterSuite({ name: 'Redis', config: { redisUrl: url }, admin: async () => redisAdmin(url) });
});
