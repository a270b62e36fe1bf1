/**
 * History kept in Redis across three real hubs (run by history-cluster.test.ts on one Redis and on
 * a Redis Cluster): every node gives a channel the same offsets, a subscriber recovers on any node,
 * a publisher racing the resubscribe loses and repeats nothing, a gap in the live stream is filled
 * from history (or reported with `recovered: false` when it cannot be), and a channel whose keys
 * are gone gets a new epoch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { parseChannelsFile } from '../../src/channels/load.js';
import type { ConfigInput } from '../../src/config.js';
import type { RunningHub } from '../../src/node.js';
import { targetTopic } from '../../src/broker/wire.js';
import { keysOf } from '../../src/history/redis.js';
import { testPrefix } from '../broker-helpers.js';
import { closeClients, connect, post, startHub, stopAll, walkersFrom, type Frame, type TestClient } from '../helpers.js';

export const KEY = 'a-server-key-of-enough-length';
const walkers = walkersFrom({});
export const historyChannels = parseChannelsFile(
  { namespaces: { chat: { history_size: 100, history_ttl: 600, max_recovery: 80 }, plain: {} } },
  walkers,
);

type Position = { offset: number; epoch: string };
const positionOf = (frame: Frame, channel: string) => (frame['positions'] as Record<string, Position>)[channel] as Position;

export const publish = (hub: RunningHub, channel: string, data: unknown) => post(hub, '/api/notify', { channels: [channel], data }, { headers: { 'X-API-Key': KEY } });

/** The next `n` publication frames of `channel`. */
async function publications(c: TestClient, channel: string, n: number): Promise<Frame[]> {
  const out: Frame[] = [];
  for (let i = 0; i < n; i++) out.push(await c.next((f) => f.type === 'publication' && f['channel_id'] === channel));
  return out;
}

export function historyClusterSuite(name: string, broker: Partial<ConfigInput>, admin: () => Redis | Cluster): void {
  describe(`history over ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    const onCleanup = (cleanup: () => Promise<void>) => cleanups.push(cleanup);
    afterEach(async () => {
      await closeClients();
      await stopAll();
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });

    const start = (prefix: string) => startHub({ ...broker, redisPrefix: prefix, apiKeys: KEY, peerEvents: 'public', frameRate: 0, revocationSyncMs: 0 }, { walkers, channels: historyChannels });
    const three = async (prefix: string) => (await Promise.all([start(prefix), start(prefix), start(prefix)])) as [RunningHub, RunningHub, RunningHub];

    it('every node gives one channel one sequence of offsets; a subscriber that was away recovers on another node, twice in a row', { timeout: 60_000 }, async () => {
      const prefix = testPrefix();
      const [a, b, c] = await three(prefix);
      const room = `chat:${prefix}`;
      let onA = await connect(a);
      const joined = await onA.request({ type: 'subscribe', channel_ids: [room] });
      const start0 = positionOf(joined, room);
      expect(start0).toEqual({ offset: 0, epoch: expect.any(String) });
      // Publishers on all three nodes share one sequence.
      const offsets: number[] = [];
      for (const [i, hub] of [a, b, c, a, b, c].entries()) offsets.push(((await publish(hub, room, { i })).body as { offsets: Record<string, number> }).offsets[room] as number);
      expect(offsets).toEqual([1, 2, 3, 4, 5, 6]);
      const live = await publications(onA, room, 6);
      expect(live.map((f) => [f['offset'], f['epoch'], (f['data'] as { i: number }).i])).toEqual([0, 1, 2, 3, 4, 5].map((i) => [i + 1, start0.epoch, i]));

      let position: Position = { offset: 6, epoch: start0.epoch };
      for (const [round, node] of [c, b].entries()) {
        await onA.close();
        for (let i = 0; i < 50; i++) await publish(b, room, { round, i });
        const back = await connect(node);
        const reply = await back.request({ type: 'subscribe', channel_ids: [room], since: { [room]: position } });
        expect(reply).toMatchObject({ type: 'subscribed', recovered: { [room]: true }, positions: { [room]: { offset: position.offset + 50, epoch: start0.epoch } } });
        const missed = await publications(back, room, 50);
        expect(missed.map((f) => f['offset'])).toEqual(Array.from({ length: 50 }, (_, i) => position.offset + 1 + i));
        expect(missed.map((f) => (f['data'] as { round: number; i: number }).i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
        await publish(a, room, { live: round });
        expect(await back.next((f) => f.type === 'publication')).toMatchObject({ offset: position.offset + 51, data: { live: round } });
        position = { offset: position.offset + 51, epoch: start0.epoch };
        // The next round reconnects from here.
        onA = back;
      }
    });

    it('a gap larger than max_recovery, or a wrong epoch, is recovered: false with nothing replayed; the position still holds', { timeout: 60_000 }, async () => {
      const prefix = testPrefix();
      const [a, b] = await three(prefix);
      const room = `chat:${prefix}-gap`;
      const first = await connect(a);
      const epoch = positionOf(await first.request({ type: 'subscribe', channel_ids: [room] }), room).epoch;
      await first.close();
      for (let i = 0; i < 90; i++) await publish(a, room, { i });
      let top = 90;
      for (const since of [{ offset: 0, epoch }, { offset: 85, epoch: 'not-the-epoch' }]) {
        const back = await connect(b);
        const reply = await back.request({ type: 'subscribe', channel_ids: [room], since: { [room]: since } });
        expect(reply).toMatchObject({ recovered: { [room]: false }, positions: { [room]: { offset: top++, epoch } } });
        await publish(a, room, { after: true });
        // The first publication it sees is the live one: nothing was replayed.
        expect(await back.next((f) => f.type === 'publication')).toMatchObject({ data: { after: true } });
        await back.close();
      }
    });

    it('a publisher racing the resubscribe: every offset arrives exactly once, in order (30 trials, subscriber and publisher on different nodes)', { timeout: 120_000 }, async () => {
      const prefix = testPrefix();
      const [a, b, c] = await three(prefix);
      for (let trial = 0; trial < 30; trial++) {
        const room = `chat:${prefix}-race${trial}`;
        const sub = await connect([a, b, c][trial % 3] as RunningHub);
        const position = positionOf(await sub.request({ type: 'subscribe', channel_ids: [room] }), room);
        await sub.close();
        const publisher = await connect([b, c, a][trial % 3] as RunningHub);
        // 10 sent while away, 20 more racing the resubscribe on a third node.
        for (let i = 0; i < 10; i++) publisher.send({ type: 'channel', channel_ids: [room], data: { i } });
        await publisher.sync();
        const back = await connect([c, a, b][trial % 3] as RunningHub);
        const asked = back.request({ type: 'subscribe', channel_ids: [room], since: { [room]: position } });
        for (let i = 10; i < 30; i++) publisher.send({ type: 'channel', channel_ids: [room], data: { i } });
        expect(await asked).toMatchObject({ recovered: { [room]: true } });
        const got = await publications(back, room, 30);
        expect(got.map((f) => f['offset'])).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        // Nothing between the 30th and the next one: no repeat, no stray.
        publisher.send({ type: 'channel', channel_ids: [room], data: { i: 30 } });
        expect(await back.next((f) => f.type === 'publication')).toMatchObject({ offset: 31 });
        await Promise.all([back.close(), publisher.close()]);
      }
    });

    it('a gap in the live stream is filled from history before anything newer; one history no longer holds is told as recovered: false', { timeout: 60_000 }, async () => {
      const prefix = testPrefix();
      const [a, b] = await three(prefix);
      const room = `chat:${prefix}-lost`;
      const sub = await connect(a);
      const epoch = positionOf(await sub.request({ type: 'subscribe', channel_ids: [room] }), room).epoch;
      await publish(b, room, { i: 1 });
      expect(await sub.next((f) => f.type === 'publication')).toMatchObject({ offset: 1 });
      // A publication whose message was lost on its way: kept in history, never published.
      const redis = admin();
      onCleanup(async () => void redis.disconnect());
      const [meta, stream] = keysOf(targetTopic(prefix, 'channels', room));
      await redis.hincrby(meta, 'o', 1);
      await redis.xadd(stream, '2-1', 't', String(Date.now()), 'd', JSON.stringify({ i: 2 }));
      await publish(b, room, { i: 3 });
      const filled = await publications(sub, room, 2);
      expect(filled.map((f) => [f['offset'], f['data']])).toEqual([[2, { i: 2 }], [3, { i: 3 }]]);
      // Lost and not kept either: the members are told before the next publication.
      await redis.hincrby(meta, 'o', 1);
      await publish(b, room, { i: 5 });
      const notice = await sub.next((f) => f.type === 'subscribed');
      expect(notice).toEqual({ type: 'subscribed', channel_ids: [room], positions: { [room]: { offset: 4, epoch } }, recovered: { [room]: false } });
      expect(await sub.next((f) => f.type === 'publication')).toMatchObject({ offset: 5, data: { i: 5 } });

      // The channel's keys are gone (as when Redis lost its data): a new epoch, and a recovery from the old one is refused.
      await redis.del(meta, stream);
      await publish(b, room, { i: 'new' });
      const told = await sub.next((f) => f.type === 'subscribed');
      const fresh = positionOf(told, room);
      expect(fresh.epoch).not.toBe(epoch);
      expect(told).toMatchObject({ recovered: { [room]: false }, positions: { [room]: { offset: 0 } } });
      expect(await sub.next((f) => f.type === 'publication')).toMatchObject({ offset: 1, epoch: fresh.epoch, data: { i: 'new' } });
      const late = await connect(b);
      expect(await late.request({ type: 'subscribe', channel_ids: [room], since: { [room]: { offset: 5, epoch } } })).toMatchObject({ recovered: { [room]: false }, positions: { [room]: { offset: 1, epoch: fresh.epoch } } });
    });

    it('the history frame, ctx-free REST history and the push API read the same history from any node', { timeout: 60_000 }, async () => {
      const prefix = testPrefix();
      const [a, b, c] = await three(prefix);
      const room = `chat:${prefix}-read`;
      for (let i = 1; i <= 3; i++) await publish([a, b, c][i - 1] as RunningHub, room, { i });
      const reader = await connect(c);
      await reader.request({ type: 'subscribe', channel_ids: [room] });
      const reply = await reader.request({ type: 'history', channel_id: room, limit: 2 });
      expect(reply).toMatchObject({ type: 'history', channel_id: room, offset: 3, publications: [{ offset: 2, data: { i: 2 } }, { offset: 3, data: { i: 3 } }] });
      const res = await fetch(`${a.url}/api/history/${encodeURIComponent(room)}?since=1&epoch=${reply['epoch'] as string}`, { headers: { 'X-API-Key': KEY } });
      expect(((await res.json()) as { publications: Array<{ offset: number }> }).publications.map((p) => p.offset)).toEqual([2, 3]);
    });
  });
}
