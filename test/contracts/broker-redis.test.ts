/**
 * The Redis broker (plain pub/sub at REDIS_URL): the shared contract, each test on its own topic
 * prefix so files running in parallel on one server do not see each other's topics.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { PubSubBroker } from '../../src/broker/pubsub.js';
import { createRedisBroker } from '../../src/broker/redis.js';
import { controlTopic } from '../../src/broker/wire.js';
import { Recorder, REDIS_URL, redisAdmin, serverTopics, testPrefix, withService } from '../broker-helpers.js';
import { brokerContract } from './broker.contract.js';

withService('redis broker contract', 'REDIS_URL', REDIS_URL, (url) => {
  let admin: Redis;
  beforeAll(() => {
    admin = redisAdmin(url);
  });
  afterAll(async () => {
    await admin.quit();
  });

  brokerContract('redis', { multiNode: true }, async () => {
    const prefix = testPrefix();
    const nodes: PubSubBroker[] = [];
    return {
      async node() {
        const broker = createRedisBroker(url, prefix, silentLogger);
        nodes.push(broker);
        const got = new Recorder();
        await broker.start(got.deliver);
        await broker.settled();
        return { broker, got };
      },
      targetTopics: async () => (await serverTopics(admin, prefix)).filter((t) => t !== controlTopic(prefix)),
      cleanup: async () => {
        await Promise.all(nodes.map((n) => n.close()));
      },
    };
  });
});
