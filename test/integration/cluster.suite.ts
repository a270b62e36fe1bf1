/**
 * Three real hubs in this process, each with its own store and its own broker connection to one
 * Redis (or Redis Cluster), and `ws` clients on all of them: every kind of notification reaches its
 * targets on every node, once and in order, and each node subscribes only to what it holds.
 * Run by cluster-redis.test.ts and cluster-redis-cluster.test.ts.
 *
 * Barriers, since nothing is slept for: `settle()` waits until every node's subscription changes
 * are acknowledged by the server, and "nothing else arrived" is shown by a later marker frame from
 * the same publisher to the same target (order per publisher and target), then a ping.
 */
import type { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PUBLIC_ROOT_ID } from '../../src/auth/identity.js';
import type { PubSubBroker } from '../../src/broker/pubsub.js';
import { controlTopic } from '../../src/broker/wire.js';
import type { ConfigInput } from '../../src/config.js';
import type { RunningHub } from '../../src/node.js';
import { serverTopics, testPrefix } from '../broker-helpers.js';
import { closeClients, connect, post, signToken, startHub, stopAll, type Frame, type TestClient } from '../helpers.js';

export interface ClusterTarget {
  readonly name: string;
  /** The broker part of each hub's config. */
  readonly config: Partial<ConfigInput>;
  admin(): Promise<Redis | Cluster>;
}

export function clusterSuite(target: ClusterTarget): void {
  describe(`three hubs over ${target.name}`, () => {
    let admin: Redis | Cluster;
    let prefix: string;
    let nodes: RunningHub[];
    let a: RunningHub, b: RunningHub, c: RunningHub;

    beforeAll(async () => {
      admin = await target.admin();
    });
    afterAll(async () => {
      await admin.quit();
    });
    beforeEach(async () => {
      prefix = testPrefix();
      nodes = [];
      for (let i = 0; i < 3; i++) nodes.push(await startHub({ ...target.config, redisPrefix: prefix, revocationSyncMs: 0 }));
      [a, b, c] = nodes as [RunningHub, RunningHub, RunningHub];
    });
    afterEach(async () => {
      await closeClients();
      await stopAll();
    });

    const settle = () => Promise.all(nodes.map((n) => n.broker.settled()));
    const targets = async () => (await serverTopics(admin, prefix)).filter((t) => t !== controlTopic(prefix));
    const wanted = (hub: RunningHub) => (hub.broker as PubSubBroker).wantedTopics().filter((t) => t !== controlTopic(prefix)).sort();
    const authed = async (hub: RunningHub, query = '') => {
      const { token, rootId } = await signToken();
      return { client: await connect(hub, { token, query }), token, rootId };
    };
    /** Sends and awaits the reply echoing the uid. */
    const ask = (client: TestClient, frame: Record<string, unknown>) => client.request(frame);
    /** The next frames are exactly `expected`, and nothing else has arrived by the ping after them. */
    const receivesExactly = async (client: TestClient, expected: Frame[]) => {
      const got: Frame[] = [];
      for (let i = 0; i < expected.length; i++) got.push(await client.next());
      expect(got).toEqual(expected);
      await client.sync();
      expect(client.pending()).toEqual([]);
    };

    it('delivers a user frame sent on one node to the user\'s sockets on the two others, once each', async () => {
      const { client: sender } = await authed(a);
      const { token, rootId } = await signToken();
      const onB = await connect(b, { token });
      const onC = await connect(c, { token });
      await settle();
      expect(await ask(sender, { type: 'user', root_ids: [rootId], data: { n: 1 } })).toMatchObject({ type: 'ack' });
      expect(await ask(sender, { type: 'user', root_ids: [rootId], data: { n: 2 } })).toMatchObject({ type: 'ack' });
      await receivesExactly(onB, [{ n: 1 }, { n: 2 }]);
      await receivesExactly(onC, [{ n: 1 }, { n: 2 }]);
      await receivesExactly(sender, []);
    });

    it('delivers a channel frame to members on every node, the sender included, once each', async () => {
      const { client: sender } = await authed(a, '?channel_id=room');
      const members = [await connect(a, { query: '?channel_id=room' }), await connect(b, { query: '?channel_id=room' }), await connect(c, { query: '?channel_id=room' })];
      const outsider = await connect(b, { query: '?channel_id=elsewhere' });
      await settle();
      sender.send({ type: 'channel', channel_ids: ['room'], data: { n: 1 } });
      sender.send({ type: 'channel', channel_ids: ['room'], data: { n: 2 } });
      for (const m of [sender, ...members]) await receivesExactly(m, [{ n: 1 }, { n: 2 }]);
      await receivesExactly(outsider, []);
      // Node b holds room and elsewhere, but only its own sockets' targets.
      expect(wanted(b)).toEqual(
        [`${prefix}b:*`, `${prefix}c:elsewhere`, `${prefix}c:room`, ...[members[1], outsider].flatMap((m) => [`${prefix}k:${m!.info.client_id}`]), `${prefix}u:${PUBLIC_ROOT_ID}`].sort(),
      );
    });

    it('serves a connection in several addressed channels on another node once', async () => {
      const { client: sender } = await authed(a);
      const both = await connect(b, { query: '?channel_id=X' });
      expect(await ask(both, { type: 'subscribe', channel_ids: ['Y', 'Z'] })).toMatchObject({ type: 'subscribed' });
      const onlyY = await connect(b, { query: '?channel_id=Y' });
      await settle();
      sender.send({ type: 'channel', channel_ids: ['X', 'Y', 'Z'], data: { multi: true } });
      sender.send({ type: 'channel', channel_ids: ['X'], data: { marker: 'X' } });
      sender.send({ type: 'channel', channel_ids: ['Y'], data: { marker: 'Y' } });
      sender.send({ type: 'channel', channel_ids: ['Z'], data: { marker: 'Z' } });
      const got: Frame[] = [];
      for (let i = 0; i < 4; i++) got.push(await both.next());
      await both.sync();
      expect(both.pending()).toEqual([]);
      expect(got[0]).toEqual({ multi: true });
      expect(got.slice(1)).toEqual(expect.arrayContaining([{ marker: 'X' }, { marker: 'Y' }, { marker: 'Z' }]));
      await receivesExactly(onlyY, [{ multi: true }, { marker: 'Y' }]);
    });

    it('delivers notifyClients to a client on another node, and REST walkers reach sockets on the others', async () => {
      const { token } = await signToken();
      const { client: target, rootId } = await authed(c, '?channel_id=group');
      const member = await connect(b, { query: '?channel_id=group' });
      await settle();
      const toClient = await post(a, '/walker/send_chat_to_client', { client_id: target.info.client_id, message: 'hi client' }, { token });
      expect(toClient.status).toBe(200);
      expect(await target.next()).toEqual({ type: 'chat', data: { message: 'hi client' } });
      // One at a time: a channel and a user are different targets (different shards in a cluster),
      // so their relative order is not guaranteed.
      expect((await post(a, '/walker/send_chat_to_group', { channel_id: 'group', message: 'hi group' }, { token })).status).toBe(200);
      expect(await target.next()).toEqual({ type: 'chat', data: { message: 'hi group' } });
      expect((await post(a, '/walker/send_chat_to_user', { root_id: rootId, message: 'hi user' }, { token })).status).toBe(200);
      await receivesExactly(target, [{ type: 'chat', data: { message: 'hi user' } }]);
      await receivesExactly(member, [{ type: 'chat', data: { message: 'hi group' } }]);
    });

    it('moves user membership across nodes with change_user', async () => {
      const { client: sender } = await authed(a);
      const { token, rootId } = await signToken();
      const anchor = await connect(c, { token });
      const mover = await connect(b);
      await settle();
      expect(wanted(b)).not.toContain(`${prefix}u:${rootId}`);
      expect(await ask(mover, { type: 'change_user', token })).toMatchObject({ type: 'connection', data: { root_id: rootId } });
      await settle();
      expect(wanted(b)).toContain(`${prefix}u:${rootId}`);
      sender.send({ type: 'user', root_ids: [rootId], data: { n: 1 } });
      await receivesExactly(mover, [{ n: 1 }]);
      expect(await ask(mover, { type: 'change_user', token: null })).toMatchObject({ type: 'connection', data: { root_id: PUBLIC_ROOT_ID } });
      await settle();
      expect(wanted(b)).not.toContain(`${prefix}u:${rootId}`);
      expect((await targets()).filter((t) => t === `${prefix}u:${rootId}`)).toHaveLength(1);
      sender.send({ type: 'user', root_ids: [rootId], data: { n: 2 } });
      await receivesExactly(anchor, [{ n: 1 }, { n: 2 }]);
      await receivesExactly(mover, []);
    });

    it('moves channel membership across nodes with subscribe and unsubscribe', async () => {
      const { client: sender } = await authed(a);
      const anchor = await connect(c, { query: '?channel_id=news' });
      const mover = await connect(b);
      await settle();
      expect(await ask(mover, { type: 'subscribe', channel_ids: ['news'] })).toMatchObject({ type: 'subscribed' });
      await settle();
      sender.send({ type: 'channel', channel_ids: ['news'], data: { n: 1 } });
      await receivesExactly(mover, [{ n: 1 }]);
      expect(await ask(mover, { type: 'unsubscribe', channel_ids: ['news'] })).toMatchObject({ type: 'unsubscribed' });
      await settle();
      expect(wanted(b)).not.toContain(`${prefix}c:news`);
      sender.send({ type: 'channel', channel_ids: ['news'], data: { n: 2 } });
      await receivesExactly(anchor, [{ n: 1 }, { n: 2 }]);
      await receivesExactly(mover, []);
    });

    it('delivers 200 frames in order, without duplicates, on every node', async () => {
      const { client: sender } = await authed(a, '?channel_id=firehose');
      const members = [await connect(a, { query: '?channel_id=firehose' }), await connect(b, { query: '?channel_id=firehose' }), await connect(c, { query: '?channel_id=firehose' })];
      await settle();
      for (let i = 0; i < 200; i++) sender.send({ type: 'channel', channel_ids: ['firehose'], data: { i } });
      const expected = Array.from({ length: 200 }, (_, i) => ({ i }));
      for (const m of [sender, ...members]) await receivesExactly(m, expected);
    });

    it('delivers a broadcast (push API and ctx.broadcast) to every socket on every node, public and authenticated, once each', async () => {
      const everyone = [await connect(a), (await authed(b)).client, await connect(c), (await authed(c)).client];
      await settle();
      const key = 'cluster-test-api-key-0123456789';
      // The push API needs a key: a fourth node with one, on the same Redis.
      const pusher = await startHub({ ...target.config, redisPrefix: prefix, revocationSyncMs: 0, apiKeys: key });
      await pusher.broker.settled();
      const pushed = await post(pusher, '/api/notify', { broadcast: true, data: { to: 'all' } }, { headers: { 'X-API-Key': key } });
      expect(pushed.status).toBe(202);
      for (const client of everyone) await receivesExactly(client, [{ to: 'all' }]);
      // The Directual form: "*" is a broadcast too.
      expect((await post(pusher, '/api/notify', { user_id: '*', event: 'notice', message: 'hello' }, { headers: { 'X-API-Key': key } })).status).toBe(202);
      for (const client of everyone) await receivesExactly(client, [{ type: 'notice', data: 'hello' }]);
    });

    it('returns a node to no target subscriptions when its clients leave', async () => {
      const { token } = await signToken();
      const onB = [await connect(b, { token, query: '?channel_id=r1' }), await connect(b, { query: '?channel_id=r2' })];
      expect(await ask(onB[1]!, { type: 'subscribe', channel_ids: ['r3', 'r4'] })).toMatchObject({ type: 'subscribed' });
      const onC = await connect(c, { query: '?channel_id=r1' });
      await settle();
      // Two users (one public), four channels, two clients, and broadcast (held while b has any client).
      expect(wanted(b)).toHaveLength(9);
      expect(b.broker.health().topics).toBe(10);
      for (const client of onB) await client.close();
      expect(b.hub.counts()).toEqual({ clients: 0, channels: 0, users: 0 });
      await settle();
      expect(wanted(b)).toEqual([]);
      expect(b.broker.health().topics).toBe(1);
      // What is left on the server is c's alone.
      expect(await targets()).toEqual([`${prefix}b:*`, `${prefix}c:r1`, `${prefix}k:${onC.info.client_id}`, `${prefix}u:${PUBLIC_ROOT_ID}`].sort());
      await onC.close();
      await settle();
      expect(await targets()).toEqual([]);
    });

    it('downgrades a socket on another node at once when its token is revoked (store poll off)', async () => {
      const email = `cluster-${prefix.slice(1, -1)}@example.com`;
      expect((await post(a, '/user/register', { email, password: 'correct horse battery' })).status).toBe(201);
      const login = await post(a, '/user/login', { email, password: 'correct horse battery' });
      const token = login.body['token'] as string;
      const onB = await connect(b, { token });
      const onC = await connect(c, { token });
      expect(onB.info.root_id).not.toBe(PUBLIC_ROOT_ID);
      expect((await post(a, '/user/logout', undefined, { token })).status).toBe(200);
      for (const socket of [onB, onC]) {
        expect(await socket.next('connection')).toMatchObject({ type: 'connection', data: { root_id: PUBLIC_ROOT_ID, client_id: socket.info.client_id } });
      }
      expect(b.authenticator.verify.bind(b.authenticator, token)).toThrow();
    });
  });
}
