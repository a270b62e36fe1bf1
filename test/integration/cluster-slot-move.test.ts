/**
 * A slot of a private Redis Cluster migrates to another master while a node is subscribed to a
 * topic in it: the old owner drops the subscription (an unsolicited SUNSUBSCRIBE), the broker
 * re-reads the slot map and subscribes on the new owner by itself, and delivery resumes without
 * `Subscriptions` being asked for anything.
 */
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { PubSubBroker } from '../../src/broker/pubsub.js';
import { ClusterPubSub, createClusterBroker, parseClusterNodes } from '../../src/broker/redis-cluster.js';
import { keySlot } from '../../src/broker/slot.js';
import { targetTopic } from '../../src/broker/wire.js';
import { silentLogger } from '../../src/log.js';
import { Recorder, testPrefix, to, withService } from '../broker-helpers.js';
import { privateClusterScript, startPrivateCluster, type PrivateCluster } from '../private-cluster.js';

const keyOf = (node: Redis) => `${node.options.host}:${node.options.port}`;

withService('cluster broker through a slot migration', 'redis-server and ../shared/services/redis-cluster-up', privateClusterScript, () => {
  describe('cluster broker through a slot migration', () => {
    let cluster: PrivateCluster | undefined;
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      await cluster?.close();
      cluster = undefined;
    });

    it('moves the subscription to the slot\'s new owner and keeps delivering', { timeout: 60_000 }, async () => {
      cluster = await startPrivateCluster();
      const { list, admin } = cluster;

      const prefix = testPrefix();
      const client = new ClusterPubSub(parseClusterNodes(list));
      const a = new PubSubBroker(client, { prefix, log: silentLogger });
      const b = createClusterBroker(parseClusterNodes(list), prefix, silentLogger);
      cleanups.push(() => a.close(), () => b.close());
      const got = new Recorder();
      await a.start(got.deliver);
      await b.start(() => 0);
      a.track('channels', 'moving');
      await a.settled();
      b.publish({ kind: 'channels', ids: ['moving'], frame: 'before' });
      await got.wait((d) => d.frame === 'before');

      const topic = targetTopic(prefix, 'channels', 'moving');
      const slot = keySlot(topic);
      const masters = admin.nodes('master');
      const from = masters.find((n) => keyOf(n) === admin.slots[slot]?.[0]) as Redis;
      const dest = masters.find((n) => n !== from) as Redis;
      const [fromId, destId] = (await Promise.all([from, dest].map((n) => n.call('CLUSTER', 'MYID')))) as [string, string];
      const channelsOn = (node: Redis) => node.call('PUBSUB', 'SHARDCHANNELS', `${prefix}*`) as Promise<string[]>;
      expect(await channelsOn(from)).toContain(topic);

      // The keyless slot moves the standard way: importing, migrating, then assigned on every master.
      await dest.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
      await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', destId);
      for (const node of [dest, ...masters.filter((n) => n !== dest)]) await node.call('CLUSTER', 'SETSLOT', slot, 'NODE', destId);

      // The one bounded wait allowed: probes are lost until the broker has followed the move.
      const deadline = Date.now() + 20_000;
      let probes = 0;
      while (!got.got.some((d) => d.frame.startsWith('probe'))) {
        if (Date.now() > deadline) throw new Error(`no delivery after the slot moved, ${probes} probes`);
        b.publish({ kind: 'channels', ids: ['moving'], frame: `probe${probes++}` });
        await Promise.race([got.wait((d) => d.frame.startsWith('probe')), new Promise((r) => setTimeout(r, 100))]);
      }
      b.publish({ kind: 'channels', ids: ['moving'], frame: 'after' });
      await got.wait((d) => d.frame === 'after');

      expect(await channelsOn(dest)).toContain(topic);
      expect(await channelsOn(from)).not.toContain(topic);
      // Held once (plus the control topic), now on the new owner's connection.
      expect(client.heldTopics).toBe(2);
      expect(client.shardSizes().get(keyOf(dest))).toBeGreaterThanOrEqual(1);
      expect(got.frames(to('moving')).at(-1)).toBe('after');

      a.untrack('channels', 'moving');
      await a.settled();
      expect([...(await channelsOn(dest)), ...(await channelsOn(from))]).not.toContain(topic);
    });
  });
});
