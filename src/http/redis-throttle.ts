/**
 * Login/register budgets kept in Redis, so every node behind a load balancer spends from one
 * budget per IP and per email (`RateLimiterRedis`). It works unchanged on Redis Cluster: each
 * consume is one Lua script over one key (`<redisPrefix>throttle:<name>:<key>`), which ioredis'
 * Cluster client routes to the shard owning that key's slot. (rate-limiter-flexible's
 * `RateLimiterCluster` is for Node's `cluster` module over IPC, not for Redis Cluster.)
 *
 * Redis unavailable: the client queues nothing (`enableOfflineQueue: false`) and gives up on an
 * unanswered command after `COMMAND_TIMEOUT_MS`, and the limiter then falls back to its
 * `insuranceLimiter`, a memory limiter with the same budget: logins are never blocked by the
 * outage, and the limit still holds per node until Redis is back.
 */
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { createCommandClient, type RedisTarget } from '../broker/redis-clients.js';
import { limiterThrottle, unlimited, type ThrottleFactory } from './throttle.js';

/** How long one throttle command may wait for Redis (ms) before the memory limiter answers instead. */
export const COMMAND_TIMEOUT_MS = 500;
/** How long start-up waits for the first connection attempt (ms) before going on with the insurance limiter. */
const START_WAIT_MS = 2500;
/** How long shutdown waits for Redis to answer QUIT (ms) before dropping the connection. */
const CLOSE_WAIT_MS = 1000;

export type { RedisTarget } from '../broker/redis-clients.js';

export interface RedisThrottles {
  readonly factory: ThrottleFactory;
  /**
   * Settles once the first connection attempt has (ready, or failed, or taken longer than
   * `START_WAIT_MS`): the hub waits for it before listening, so its first logins count in Redis
   * when Redis is up. Never rejects.
   */
  readonly started: Promise<void>;
  /** Calls `listener` each time the client (re)connects. */
  onReady(listener: () => void): void;
  close(): Promise<void>;
}

/** One small client of its own (the broker's connections are subscribed or latency-sensitive). */
export function createRedisThrottles(target: RedisTarget, prefix: string, onError: (err: Error) => void): RedisThrottles {
  const client = createCommandClient(target, 'walker-hub-throttle', COMMAND_TIMEOUT_MS);
  client.on('error', onError);
  // A failed first attempt is not fatal: the insurance limiter answers and the client keeps retrying.
  const connected = client.connect().then(
    () => undefined,
    (err: unknown) => onError(err instanceof Error ? err : new Error(String(err))),
  );
  const started = Promise.race([connected, new Promise<void>((resolve) => setTimeout(resolve, START_WAIT_MS).unref())]);
  const factory: ThrottleFactory = (name, budget) => {
    if (budget.points === 0) return unlimited;
    const limits = { points: budget.points, duration: budget.durationSec };
    return limiterThrottle(
      new RateLimiterRedis({
        ...limits,
        storeClient: client,
        keyPrefix: `${prefix}throttle:${name}`,
        // Not ready (connecting, reconnecting): straight to the memory limiter, no wait.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ ...limits, keyPrefix: `${prefix}throttle:${name}` }),
      }),
    );
  };
  return {
    factory,
    started,
    onReady: (listener) => void client.on('ready', listener),
    async close() {
      if (client.status === 'ready') {
        await Promise.race([client.quit(), new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]).catch(onError);
      }
      client.disconnect();
    },
  };
}
