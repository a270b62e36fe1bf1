/** Picks the broker from the config: Redis Cluster, Redis, or (neither set) the in-process one. */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Broker } from './broker.js';
import { MemoryBroker } from './memory.js';
import { createClusterBroker, parseClusterNodes } from './redis-cluster.js';
import { createRedisBroker } from './redis.js';

export type BrokerConfig = Pick<Config, 'redisUrl' | 'redisClusterNodes' | 'redisPrefix'>;

export function createBroker(config: BrokerConfig, log: Logger): Broker {
  if (config.redisClusterNodes !== undefined) return createClusterBroker(parseClusterNodes(config.redisClusterNodes), config.redisPrefix, log);
  if (config.redisUrl !== undefined) return createRedisBroker(config.redisUrl, config.redisPrefix, log);
  return new MemoryBroker();
}
