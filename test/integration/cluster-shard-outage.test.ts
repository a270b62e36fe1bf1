/**
 * One shard of a private Redis Cluster shut down and started again: topics on the other shards keep
 * flowing, the dead shard's notifications are dropped (never queued and delivered late), the
 * failure is logged once, and delivery on that shard resumes by itself. Starts its own cluster with
 * ../shared/services/redis-cluster-up, so it can stop a shard without disturbing other test files.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PubSubBroker } from '../../src/broker/pubsub.js';
import { createClusterBroker, parseClusterNodes } from '../../src/broker/redis-cluster.js';
import { targetTopic } from '../../src/broker/wire.js';
import { createLogger } from '../../src/log.js';
import { Recorder, testPrefix, withService } from '../broker-helpers.js';
import { privateClusterScript, startPrivateCluster, type PrivateCluster } from '../private-cluster.js';

withService('cluster broker through a shard outage', 'redis-server and ../shared/services/redis-cluster-up', privateClusterScript, () => {
  describe('cluster broker through a shard outage', () => {
    let cluster: PrivateCluster | undefined;
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      await cluster?.close();
      cluster = undefined;
    });

    it('drops the dead shard\'s notifications, keeps the others, and resumes when it is back', { timeout: 60_000 }, async () => {
      cluster = await startPrivateCluster();
      const { dir, first, list } = cluster;

      const prefix = testPrefix();
      const lines: Array<{ msg?: string }> = [];
      const log = createLogger('info', 'json', (line) => lines.push(JSON.parse(line) as { msg?: string }));
      const a = createClusterBroker(parseClusterNodes(list), prefix, log);
      const b = createClusterBroker(parseClusterNodes(list), prefix, log);
      cleanups.push(() => a.close(), () => b.close());
      const got = new Recorder();
      await a.start(got.deliver);
      await b.start(() => 0);

      // Twelve channels, and the shard (0..2) that owns each.
      const ids = Array.from({ length: 12 }, (_, i) => `ch${i}`);
      const shardOf = (id: string) => (cluster as PrivateCluster).shardOf(targetTopic(prefix, 'channels', id));
      const dead = shardOf('ch0');
      const onDead = ids.filter((id) => shardOf(id) === dead);
      const onLive = ids.filter((id) => shardOf(id) !== dead);
      expect(onLive.length).toBeGreaterThan(0);
      for (const id of ids) a.track('channels', id);
      await a.settled();
      const send = (broker: PubSubBroker, frame: string, targets = ids) => {
        for (const id of targets) broker.publish({ kind: 'channels', ids: [id], frame });
      };
      const arrived = (frame: string) => got.got.filter((d) => d.frame === frame).map((d) => d.ids[0]).sort();

      send(b, 'before');
      await got.wait((d) => d.frame === 'before', 12);

      // SHUTDOWN returns once the server has closed its connections, so the shard is gone here.
      spawnSync('redis-cli', ['-p', String(first + dead), 'shutdown', 'nosave']);
      send(b, 'during');
      await got.wait((d) => d.frame === 'during' && onLive.includes(d.ids[0] as string), onLive.length);

      spawnSync(join(dir, String(dead), 'start'));
      // The one bounded wait allowed: the first delivery on the restarted shard, re-sent until it
      // arrives. Every probe before that is dropped, not queued.
      const deadline = Date.now() + 20_000;
      let probes = 0;
      while (!got.got.some((d) => d.frame.startsWith('probe'))) {
        if (Date.now() > deadline) throw new Error(`no delivery on the restarted shard after ${probes} probes`);
        send(b, `probe${probes++}`, [onDead[0] as string]);
        await Promise.race([got.wait((d) => d.frame.startsWith('probe')), new Promise((r) => setTimeout(r, 100))]);
      }
      send(b, 'after');
      await got.wait((d) => d.frame === 'after', 12);

      // What was sent to the dead shard never came, not even late (it would precede the probe).
      expect(arrived('during')).toEqual([...onLive].sort());
      expect(arrived('after')).toEqual([...ids].sort());
      expect(b.health()).toMatchObject({ state: 'up' });
      expect(b.health().dropped).toBeGreaterThanOrEqual(1);
      expect(lines.filter((l) => l.msg === 'broker commands failing; notifications to the affected topics are dropped').length).toBeLessThanOrEqual(1);
    });
  });
});
