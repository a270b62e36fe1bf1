/** Channel history kept in Redis, across three hubs on one Redis and on a Redis Cluster (history-cluster.suite.ts). */
import { clusterAdmin, redisAdmin, REDIS_CLUSTER_NODES, REDIS_URL, withService } from '../broker-helpers.js';
import { historyClusterSuite } from './history-cluster.suite.js';

withService('history over Redis', 'REDIS_URL', REDIS_URL, (url) => historyClusterSuite('Redis', { redisUrl: url }, () => redisAdmin(url)));
withService('history over Redis Cluster', 'REDIS_CLUSTER_NODES', REDIS_CLUSTER_NODES, (nodes) => historyClusterSuite('Redis Cluster', { redisClusterNodes: nodes }, () => clusterAdmin(nodes)));
