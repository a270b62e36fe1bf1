/**
 * The Redis Cluster broker (sharded pub/sub over REDIS_CLUSTER_NODES): the shared contract, each
 * test on its own topic prefix; the server's view is PUBSUB SHARDCHANNELS summed over every shard.
 */
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { PubSubBroker } from '../../src/broker/pubsub.js';
import { createClusterBroker, parseClusterNodes } from '../../src/broker/redis-cluster.js';
import { keySlot } from '../../src/broker/slot.js';
import { controlTopic } from '../../src/broker/wire.js';
import { clusterAdmin, Recorder, REDIS_CLUSTER_NODES, serverTopics, testPrefix, withService } from '../broker-helpers.js';
import { brokerContract } from './broker.contract.js';

withService('redis cluster broker contract', 'REDIS_CLUSTER_NODES', REDIS_CLUSTER_NODES, (list) => {
  let admin: Cluster;
  beforeAll(async () => {
    admin = clusterAdmin(list);
    await new Promise<void>((resolve, reject) => admin.once('ready', resolve).once('error', reject));
  });
  afterAll(async () => {
    await admin.quit();
  });

  brokerContract('redis-cluster', { multiNode: true }, async () => {
    const prefix = testPrefix();
    const nodes: PubSubBroker[] = [];
    return {
      async node() {
        const broker = createClusterBroker(parseClusterNodes(list), prefix, silentLogger);
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

  describe('cluster key slots', () => {
    it('are the ones the server computes (the broker checks the owning shard before publishing)', async () => {
      const keys = ['wh:c:room', 'wh:u:n::0123456789abcdef01234567', 'wh:k:V1StGXR8_Z5jdHi6B-myT', 'foo{}{bar}', 'foo{{bar}}zap', '{user1000}.following', 'wh:c:é✓'];
      const server = await Promise.all(keys.map((k) => admin.call('CLUSTER', 'KEYSLOT', k) as Promise<number>));
      expect(keys.map(keySlot)).toEqual(server);
    });
  });
});
