/** Channels (rules, presence, join/leave, server joins) across three hubs on one Redis and on a Redis Cluster (channels-cluster.suite.ts). */
import { REDIS_CLUSTER_NODES, REDIS_URL, withService } from '../broker-helpers.js';
import { channelsClusterSuite } from './channels-cluster.suite.js';

withService('presence over Redis', 'REDIS_URL', REDIS_URL, (url) => channelsClusterSuite('Redis', { redisUrl: url }, { REDIS_URL: url }));
withService('presence over Redis Cluster', 'REDIS_CLUSTER_NODES', REDIS_CLUSTER_NODES, (nodes) =>
  channelsClusterSuite('Redis Cluster', { redisClusterNodes: nodes }, { REDIS_CLUSTER_NODES: nodes }),
);
