/**
 * What the hub's Redis clients share: where Redis is (one server or a cluster), the options of a
 * subscriber connection, and one small command client (throttles, presence) that queues nothing while
 * disconnected and gives up on an unanswered command, so an outage fails fast instead of growing memory.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { reconnectDelayMs } from './reconnect.js';
import type { RedisTarget } from './redis-target.js';

export { redisTargetOf, type RedisTarget } from './redis-target.js';

/** A subscriber connection: nothing queued while disconnected, nothing re-sent or re-subscribed by ioredis. */
export const subscriberOptions: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  autoResubscribe: false,
  autoResendUnfulfilledCommands: false,
  connectTimeout: 2000,
  retryStrategy: reconnectDelayMs,
};

/** A command client named `name` whose commands fail after `commandTimeoutMs` without an answer; not connected yet. */
export function createCommandClient(target: RedisTarget, name: string, commandTimeoutMs: number): Redis | Cluster {
  const options: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    commandTimeout: commandTimeoutMs,
    // A failed command is answered at once by its caller; no delayed re-send.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelayMs,
    connectionName: name,
  };
  if ('url' in target) return new Redis(target.url, options);
  return new Cluster([...target.clusterNodes], {
    lazyConnect: true,
    enableOfflineQueue: false,
    clusterRetryStrategy: reconnectDelayMs,
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    redisOptions: options,
  });
}
