/** Picks the broker from the config: Redis Cluster, Redis, or (neither set) the in-process one. */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Broker } from './broker.js';
import { MemoryBroker } from './memory.js';
import { PubSubBroker } from './pubsub.js';
import { ClusterPubSub, parseClusterNodes } from './redis-cluster.js';
import { RedisPubSub } from './redis.js';

export type BrokerConfig = Pick<Config, 'redisUrl' | 'redisClusterNodes' | 'redisPrefix' | 'brokerConfirmTimeoutMs'>;

export function createBroker(config: BrokerConfig, log: Logger): Broker {
  const options = { prefix: config.redisPrefix, log, confirmTimeoutMs: config.brokerConfirmTimeoutMs };
  if (config.redisClusterNodes !== undefined) return new PubSubBroker(new ClusterPubSub(parseClusterNodes(config.redisClusterNodes)), options);
  if (config.redisUrl !== undefined) return new PubSubBroker(new RedisPubSub(config.redisUrl), options);
  return new MemoryBroker();
}
