/**
 * Subscription churn on Redis Cluster: 20 identical rounds of subscribing and unsubscribing a few
 * thousand new topics. What ioredis's own sharded subscriber kept grew with every slot ever used
 * (and every subscribe walked it); what the broker holds now must return to the topics currently
 * subscribed after each round, and delivery must still work after the churn. CPU per round is
 * measured in bench/, not here.
 */
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PubSubBroker } from '../../src/broker/pubsub.js';
import { ClusterPubSub, createClusterBroker, parseClusterNodes } from '../../src/broker/redis-cluster.js';
import { controlTopic } from '../../src/broker/wire.js';
import { silentLogger } from '../../src/log.js';
import { clusterAdmin, Recorder, REDIS_CLUSTER_NODES, serverTopics, testPrefix, to, withService } from '../broker-helpers.js';

const ROUNDS = 20;
const TOPICS_PER_ROUND = 2000;

const sum = (sizes: Map<string, number>) => [...sizes.values()].reduce((a, b) => a + b, 0);

withService('cluster subscription churn', 'REDIS_CLUSTER_NODES', REDIS_CLUSTER_NODES, (list) => {
  describe('cluster subscription churn', () => {
    let admin: Cluster;
    const cleanups: Array<() => Promise<unknown>> = [];
    beforeAll(async () => {
      admin = clusterAdmin(list);
      await new Promise<void>((resolve, reject) => admin.once('ready', resolve).once('error', reject));
    });
    afterAll(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      await admin.quit();
    });

    it('holds only the topics subscribed now, round after round, and still delivers', { timeout: 60_000 }, async () => {
      const prefix = testPrefix();
      const client = new ClusterPubSub(parseClusterNodes(list));
      const a = new PubSubBroker(client, { prefix, log: silentLogger });
      const b = createClusterBroker(parseClusterNodes(list), prefix, silentLogger);
      cleanups.push(() => a.close(), () => b.close());
      const got = new Recorder();
      await a.start(got.deliver);
      await b.start(() => 0);
      await Promise.all([a.settled(), b.settled()]);
      const masters = admin.nodes('master').length;
      // The control topic stays subscribed throughout.
      expect(client.heldTopics).toBe(1);

      let next = 0;
      for (let round = 1; round <= ROUNDS; round++) {
        // New ids each round, so over the rounds the topics touch nearly every slot.
        const ids = Array.from({ length: TOPICS_PER_ROUND }, () => `churn-${next++}`);
        for (const id of ids) a.track('users', id);
        await a.settled();
        expect(client.heldTopics).toBe(TOPICS_PER_ROUND + 1);
        expect(sum(client.shardSizes())).toBe(TOPICS_PER_ROUND + 1);
        for (const id of ids) a.untrack('users', id);
        await a.settled();
        expect({ round, held: client.heldTopics, perShard: sum(client.shardSizes()), topics: a.health().topics }).toEqual({ round, held: 1, perShard: 1, topics: 1 });
        // One subscriber connection per master, however many slots were used.
        expect(client.shardSizes().size).toBe(masters);
      }
      expect(await serverTopics(admin, prefix)).toEqual([controlTopic(prefix)]);

      a.track('users', 'after');
      a.track('channels', 'after');
      await a.settled();
      expect((await serverTopics(admin, prefix)).length).toBe(3);
      b.publish({ kind: 'users', ids: ['after'], frame: 'to-user' });
      b.publish({ kind: 'channels', ids: ['after'], frame: 'to-channel' });
      await got.wait(to('after'), 2);
      expect(got.frames().sort()).toEqual(['to-channel', 'to-user']);
      expect(a.health()).toMatchObject({ state: 'up', dropped: 0 });
    });
  });
});
