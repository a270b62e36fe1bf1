/**
 * An acknowledgement means the subscription is live (issue 17): the moment a client reads
 * `subscribed`, or a `connection` frame (at connect or answering `change_user`), a frame sent to
 * it from another node at once must arrive. Three real hubs on one Redis (or Redis Cluster); each
 * trial puts the client on one node and the publisher on the next.
 *
 * A miss is seen without sleeping: after the probe, the same publisher sends a marker to the same
 * target once the client's node has no subscription change outstanding (`settled()`), so the
 * marker surely arrives; order per publisher and target means a delivered probe came first.
 * Run by cluster-redis.test.ts and cluster-redis-cluster.test.ts.
 *
 * With `farHome`, node 0 reaches the server through that config (a latency proxy: a Redis across
 * a network) and is every trial's home, while the publishers (nodes 1 and 2) connect directly: a
 * reply sent before the server confirmed the SUBSCRIBE then loses the race almost every time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config.js';
import type { RunningHub } from '../../src/node.js';
import { testPrefix } from '../broker-helpers.js';
import { closeClients, connect, post, signToken, startHub, stopAll, type Frame, type TestClient } from '../helpers.js';
import type { ClusterTarget } from './cluster.suite.js';

/** Trials per row, and how many run at once. */
const TRIALS = 200;
const CONCURRENCY = 20;

export interface AckLiveTarget extends Pick<ClusterTarget, 'name' | 'config'> {
  /** Node 0's broker config instead of `config` (made before the hubs start, closed after they stop). */
  readonly farHome?: () => Promise<{ config: Partial<ConfigInput>; close(): Promise<void> }>;
}

export function ackLiveSuite(target: AckLiveTarget): void {
  describe(`acknowledgements are live on three hubs over ${target.name}`, () => {
    let nodes: RunningHub[];
    /** One authenticated sender socket per node (peer frames need a token by default). */
    let senders: TestClient[];
    let senderToken: string;
    let far: { config: Partial<ConfigInput>; close(): Promise<void> } | null = null;

    beforeAll(async () => {
      const prefix = testPrefix();
      far = (await target.farHome?.()) ?? null;
      nodes = [];
      for (let i = 0; i < 3; i++) nodes.push(await startHub({ ...(i === 0 && far !== null ? far.config : target.config), redisPrefix: prefix, revocationSyncMs: 0 }));
      senderToken = (await signToken()).token;
      senders = await Promise.all(nodes.map((n) => connect(n, { token: senderToken })));
    });
    afterAll(async () => {
      await closeClients();
      await stopAll();
      await far?.close();
    });

    /** Runs `trial` TRIALS times, CONCURRENCY at once; returns how many missed. */
    const run = async (row: string, trial: (i: number, home: RunningHub, other: RunningHub, sender: TestClient) => Promise<boolean>) => {
      let missed = 0;
      for (let start = 0; start < TRIALS; start += CONCURRENCY) {
        const batch = Array.from({ length: Math.min(CONCURRENCY, TRIALS - start) }, (_, k) => {
          const i = start + k;
          const home = far === null ? i % 3 : 0;
          const other = far === null ? (i + 1) % 3 : 1 + (i % 2);
          return trial(i, nodes[home]!, nodes[other]!, senders[other]!);
        });
        for (const delivered of await Promise.all(batch)) if (!delivered) missed++;
      }
      console.info(`[ack-live] ${target.name}, ${row}: ${missed}/${TRIALS} missed`);
      return missed;
    };

    /** After `probe` went out: waits until `home` holds every subscription, sends the marker, and says whether the probe came first. */
    const probeArrived = async (client: TestClient, home: RunningHub, marker: () => Promise<unknown>, isProbe: (f: Frame) => boolean, isMarker: (f: Frame) => boolean) => {
      await home.broker.settled();
      await marker();
      await client.next(isMarker);
      return client.pending().some(isProbe);
    };

    it('delivers a channel frame sent from another node as soon as `subscribed` is read', async () => {
      const missed = await run('subscribed', async (i, home, _other, sender) => {
        const client = await connect(home);
        const channel = `fresh-sub-${i}`;
        await client.request({ type: 'subscribe', channel_ids: [channel] });
        sender.send({ type: 'channel', channel_ids: [channel], data: { probe: i } });
        const arrived = await probeArrived(
          client,
          home,
          async () => sender.send({ type: 'channel', channel_ids: [channel], data: { marker: i } }),
          (f) => f['probe'] === i,
          (f) => f['marker'] === i,
        );
        await client.close();
        return arrived;
      });
      expect(missed).toBe(0);
    });

    it('delivers a channel frame sent from another node as soon as the `connection` frame of `?channel_id=` is read', async () => {
      const missed = await run('connection with ?channel_id=', async (i, home, _other, sender) => {
        const channel = `fresh-connect-${i}`;
        const client = await connect(home, { query: `?channel_id=${channel}` });
        sender.send({ type: 'channel', channel_ids: [channel], data: { probe: i } });
        const arrived = await probeArrived(
          client,
          home,
          async () => sender.send({ type: 'channel', channel_ids: [channel], data: { marker: i } }),
          (f) => f['probe'] === i,
          (f) => f['marker'] === i,
        );
        await client.close();
        return arrived;
      });
      expect(missed).toBe(0);
    });

    it('delivers a user frame sent from another node as soon as the `connection` frame answering `change_user` is read', async () => {
      const missed = await run('connection answering change_user', async (i, home, _other, sender) => {
        const client = await connect(home);
        const { token, rootId } = await signToken();
        await client.request({ type: 'change_user', token });
        sender.send({ type: 'user', root_ids: [rootId], data: { probe: i } });
        const arrived = await probeArrived(
          client,
          home,
          async () => sender.send({ type: 'user', root_ids: [rootId], data: { marker: i } }),
          (f) => f['probe'] === i,
          (f) => f['marker'] === i,
        );
        await client.close();
        return arrived;
      });
      expect(missed).toBe(0);
    });

    it('delivers a REST walker\'s notification from another node as soon as the `connection` frame is read', async () => {
      const missed = await run('connection, then a REST walker on another node', async (i, home, other) => {
        const { token, rootId } = await signToken();
        const client = await connect(home, { token });
        const chat = (message: string) => post(other, '/walker/send_chat_to_user', { root_id: rootId, message }, { token: senderToken });
        const sent = await chat(`probe-${i}`);
        expect(sent.status).toBe(200);
        const text = (f: Frame) => (f['data'] as { message?: unknown } | undefined)?.message;
        const arrived = await probeArrived(
          client,
          home,
          () => chat(`marker-${i}`),
          (f) => text(f) === `probe-${i}`,
          (f) => text(f) === `marker-${i}`,
        );
        await client.close();
        return arrived;
      });
      expect(missed).toBe(0);
    });

    it('answers a ping sent right after subscribe after `subscribed`', async () => {
      const client = await connect(nodes[0]!);
      client.send({ type: 'subscribe', channel_ids: ['ordered'], uid: 's' });
      client.send({ type: 'ping', uid: 'p' });
      expect(await client.next()).toMatchObject({ type: 'subscribed', uid: 's' });
      expect(await client.next()).toMatchObject({ type: 'pong', uid: 'p' });
      await client.close();
    });
  });
}
