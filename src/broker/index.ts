/**
 * Picks the broker from the config: Redis Cluster, Redis, or (neither set) the in-process one.
 * The Redis brokers are imported only when configured: ioredis costs start-up time for nothing
 * in a hub without Redis.
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Broker } from './broker.js';
import { MemoryBroker } from './memory.js';
import { PubSubBroker } from './pubsub.js';
import { parseClusterNodes } from './redis-target.js';

export type BrokerConfig = Pick<Config, 'redisUrl' | 'redisClusterNodes' | 'redisPrefix' | 'brokerConfirmTimeoutMs'>;

export async function createBroker(config: BrokerConfig, log: Logger): Promise<Broker> {
  const options = { prefix: config.redisPrefix, log, confirmTimeoutMs: config.brokerConfirmTimeoutMs };
  if (config.redisClusterNodes !== undefined) {
    const nodes = parseClusterNodes(config.redisClusterNodes);
    const { ClusterPubSub } = await import('./redis-cluster.js');
    return new PubSubBroker(new ClusterPubSub(nodes), options);
  }
  if (config.redisUrl !== undefined) {
    const { RedisPubSub } = await import('./redis.js');
    return new PubSubBroker(new RedisPubSub(config.redisUrl), options);
  }
  return new MemoryBroker();
}
