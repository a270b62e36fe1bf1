/**
 * History kept in Redis through failures, on Redis servers of the test's own: a Redis restarted
 * with its data lost gives the channel a new epoch (a recovery says `recovered: false`, live
 * members are told before the first new publication, publishing while it is down is a 503), and
 * with one shard of a Redis Cluster down, the channels on it report `recovered: false` while the
 * others recover.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { targetTopic } from '../../src/broker/wire.js';
import { testPrefix, withService, untilState } from '../broker-helpers.js';
import { closeClients, connect, startHub, stopAll, type Frame } from '../helpers.js';
import { privateClusterScript, startPrivateCluster, stopShard, type PrivateCluster } from '../private-cluster.js';
import { freePort, hasRedisServer, killRedis, startRedis } from '../redis-server.js';
import { historyChannels, KEY, publish } from './history-cluster.suite.js';

type Position = { offset: number; epoch: string };
const positionOf = (frame: Frame, channel: string) => (frame['positions'] as Record<string, Position>)[channel] as Position;

const hubOn = (broker: Record<string, string>, prefix: string) =>
  startHub({ ...broker, redisPrefix: prefix, apiKeys: KEY, frameRate: 0, revocationSyncMs: 0, brokerConfirmTimeoutMs: 1000 }, { channels: historyChannels });

withService('history through a Redis restart', 'redis-server on PATH', hasRedisServer, () => {
  describe('history through a Redis restart that lost its data', () => {
    const servers: ChildProcess[] = [];
    afterEach(async () => {
      await closeClients();
      await stopAll();
      await Promise.all(servers.splice(0).map(killRedis));
    });

    it('a new epoch: publishing while down is a 503, live members are told recovered: false, a recovery from the old epoch is refused', { timeout: 60_000 }, async () => {
      const port = await freePort();
      servers.push(await startRedis(port));
      const prefix = testPrefix();
      const broker = { redisUrl: `redis://127.0.0.1:${port}` };
      const [a, b] = [await hubOn(broker, prefix), await hubOn(broker, prefix)];
      const room = `chat:${prefix}`;
      const live = await connect(a);
      const old = positionOf(await live.request({ type: 'subscribe', channel_ids: [room] }), room);
      for (let i = 1; i <= 3; i++) await publish(b, room, { i });
      for (let i = 1; i <= 3; i++) expect(await live.next((f) => f.type === 'publication')).toMatchObject({ offset: i, epoch: old.epoch });

      await killRedis(servers[0] as ChildProcess);
      await Promise.all([untilState(a, 'down'), untilState(b, 'down')]);
      const refused = await publish(b, room, { i: 'while down' });
      expect(refused).toMatchObject({ status: 503, body: { error: { code: 'history_unavailable' } } });

      servers[0] = await startRedis(port);
      await Promise.all([untilState(a, 'up'), untilState(b, 'up')]);
      await Promise.all([a.broker.settled(), b.broker.settled()]);
      const back = await connect(b);
      const reply = await back.request({ type: 'subscribe', channel_ids: [room], since: { [room]: { offset: 3, epoch: old.epoch } } });
      const fresh = positionOf(reply, room);
      expect(reply).toMatchObject({ recovered: { [room]: false } });
      expect(fresh).toEqual({ offset: 0, epoch: expect.any(String) });
      expect(fresh.epoch).not.toBe(old.epoch);

      await publish(b, room, { i: 'after' });
      const told = await live.next((f) => f.type === 'subscribed');
      expect(told).toMatchObject({ recovered: { [room]: false }, positions: { [room]: { offset: 0, epoch: fresh.epoch } } });
      expect(await live.next((f) => f.type === 'publication')).toMatchObject({ offset: 1, epoch: fresh.epoch, data: { i: 'after' } });
      expect(await back.next((f) => f.type === 'publication')).toMatchObject({ offset: 1, epoch: fresh.epoch, data: { i: 'after' } });
    });
  });
});

withService('history with a Redis Cluster shard down', 'redis-server and ../shared/services/redis-cluster-up', privateClusterScript, () => {
  describe('history with a Redis Cluster shard down', () => {
    let cluster: PrivateCluster | undefined;
    afterEach(async () => {
      await closeClients();
      await stopAll();
      await cluster?.close();
      cluster = undefined;
    });

    it('the down shard\'s channels report recovered: false (and publishing to them is a 503); the others recover', { timeout: 90_000 }, async () => {
      cluster = await startPrivateCluster();
      const { list } = cluster;
      const prefix = testPrefix();
      const shardOf = (room: string) => (cluster as PrivateCluster).shardOf(targetTopic(prefix, 'channels', room));
      const rooms = Array.from({ length: 12 }, (_, i) => `chat:${prefix}-${i}`);
      const dead = shardOf(rooms[0] as string);
      const down = rooms[0] as string;
      const up = rooms.find((room) => shardOf(room) !== dead) as string;

      const broker = { redisClusterNodes: list };
      const [a, b] = [await hubOn(broker, prefix), await hubOn(broker, prefix)];
      const away = await connect(a);
      const joined = await away.request({ type: 'subscribe', channel_ids: [down, up] });
      const positions = { [down]: positionOf(joined, down), [up]: positionOf(joined, up) };
      await away.close();
      for (const room of [down, up]) for (let i = 1; i <= 2; i++) await publish(b, room, { i });

      stopShard(cluster.dir, dead);
      expect(await publish(b, down, { i: 3 })).toMatchObject({ status: 503, body: { error: { code: 'history_unavailable' } } });
      const back = await connect(b);
      const reply = await back.request({ type: 'subscribe', channel_ids: [down, up], since: positions });
      expect(reply).toMatchObject({ recovered: { [down]: false, [up]: true }, positions: { [up]: { offset: 2, epoch: positions[up]?.epoch } } });
      expect(reply['positions']).not.toHaveProperty(down);
      const replayed = [await back.next((f) => f.type === 'publication'), await back.next((f) => f.type === 'publication')];
      expect(replayed.map((f) => [f['channel_id'], f['offset']])).toEqual([[up, 1], [up, 2]]);
    });
  });
});
