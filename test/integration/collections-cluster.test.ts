/**
 * Collections across three real hubs sharing one MongoDB database, over Redis and over Redis
 * Cluster: a change made on any node reaches the matching subscribers on every node exactly once,
 * per item in commit order, and a subscriber's init on one node sees items written on another.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config.js';
import type { RunningHub } from '../../src/node.js';
import { REDIS_CLUSTER_NODES, REDIS_URL, testPrefix, withService } from '../broker-helpers.js';
import { testCollections } from '../collections-fixtures.js';
import { closeClients, connect, signToken, startHub, stopAll, type Frame, type TestClient } from '../helpers.js';

const MONGODB_URL = process.env['MONGODB_URL'];

function suite(name: string, broker: Partial<ConfigInput>, mongoUrl: string): void {
  describe(`collections over ${name}`, () => {
    let admin: MongoClient;
    const dbs: string[] = [];
    beforeAll(async () => {
      admin = await new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 }).connect();
    });
    afterEach(async () => {
      await closeClients();
      await stopAll();
      for (const db of dbs.splice(0)) await admin.db(db).dropDatabase();
    });
    afterAll(async () => {
      await admin?.close();
    });

    const cluster = async () => {
      const prefix = testPrefix();
      const db = `walker_hub_test_${randomBytes(6).toString('hex')}`;
      dbs.push(db);
      const [base = '', options] = mongoUrl.split('?', 2) as [string, string | undefined];
      const url = `${base.replace(/^(mongodb(?:\+srv)?:\/\/[^/]*).*$/s, '$1')}/${db}${options === undefined ? '' : `?${options}`}`;
      const start = () => startHub({ ...broker, redisPrefix: prefix, revocationSyncMs: 0, mongodbUrl: url }, { collections: testCollections() });
      return (await Promise.all([start(), start(), start()])) as [RunningHub, RunningHub, RunningHub];
    };
    const sub = async (client: TestClient, uid: string, frame: Record<string, unknown>) => {
      client.send({ type: 'subscribe', uid, ...frame });
      return client.next((f) => f.uid === uid);
    };
    const events = (f: Frame) => f.type === 'subscription';

    it('a create on node A reaches subscribers on B and C once; updates and deletes from any node too', async () => {
      const [a, b, c] = await cluster();
      const writer = await connect(a);
      const onA = await connect(a);
      const onB = await connect(b);
      const onC = await connect(c);
      const filtered = await connect(c);
      for (const client of [onA, onB, onC]) expect(await sub(client, 's', { collection: 'todos' })).toMatchObject({ event: 'init', data: [] });
      expect(await sub(filtered, 'f', { collection: 'todos', query: { filter: { done: { _eq: true } } } })).toMatchObject({ event: 'init', data: [] });

      writer.send({ type: 'items', collection: 'todos', action: 'create', data: { text: 'shared' }, uid: 'w1' });
      const created = (await writer.next((f) => f.uid === 'w1'))['data'] as { id: string };
      for (const client of [onA, onB, onC]) expect(await client.next(events)).toMatchObject({ event: 'create', uid: 's', data: [{ id: created.id, text: 'shared' }] });

      // From node C, the update; from node B, the delete: every subscriber hears each once.
      const fromC = await connect(c);
      fromC.send({ type: 'items', collection: 'todos', action: 'update', id: created.id, data: { done: true }, uid: 'w2' });
      await fromC.next((f) => f.uid === 'w2');
      for (const client of [onA, onB, onC, filtered]) expect(await client.next(events)).toMatchObject({ event: 'update', data: [{ id: created.id, done: true }] });
      const fromB = await connect(b);
      fromB.send({ type: 'items', collection: 'todos', action: 'delete', id: created.id, uid: 'w3' });
      await fromB.next((f) => f.uid === 'w3');
      for (const client of [onA, onB, onC, filtered]) expect(await client.next(events)).toMatchObject({ event: 'delete', data: [created.id] });

      // Init on a node sees what another node wrote (one shared database).
      writer.send({ type: 'items', collection: 'todos', action: 'create', data: { text: 'later' }, uid: 'w4' });
      await writer.next((f) => f.uid === 'w4');
      for (const client of [onA, onB, onC]) await client.next(events);
      const late = await connect(b);
      expect(await sub(late, 'l', { collection: 'todos' })).toMatchObject({ event: 'init', data: [{ text: 'later' }] });

      // Nothing twice: every socket got each event; a second copy would come down the same Redis
      // subscription right behind the first, before the reply to a ping sent after it.
      for (const client of [onA, onB, onC, filtered]) {
        await client.sync();
        expect(client.pending('subscription')).toEqual([]);
      }
    });

    it('delivers one item\'s changes in commit order on every node, and owner events only to the owner', async () => {
      const [a, b, c] = await cluster();
      const alice = await signToken();
      const bob = await signToken();
      const aliceOnB = await connect(b, { token: alice.token });
      const bobOnC = await connect(c, { token: bob.token });
      const aliceOnA = await connect(a, { token: alice.token });
      await sub(aliceOnB, 'n', { collection: 'notes' });
      await sub(bobOnC, 'n', { collection: 'notes' });
      aliceOnA.send({ type: 'items', collection: 'notes', action: 'create', data: { title: 't', n: 0 }, uid: 'c' });
      const note = (await aliceOnA.next((f) => f.uid === 'c'))['data'] as { id: string };
      // Ten updates without waiting between them: they commit in some order (each one a new rev),
      // and alice's socket on B sees them in that order, ending with the stored state.
      for (let n = 1; n <= 10; n++) aliceOnA.send({ type: 'items', collection: 'notes', action: 'update', id: note.id, data: { n }, uid: `u${n}` });
      for (let n = 1; n <= 10; n++) await aliceOnA.next((f) => f.uid === `u${n}`);
      aliceOnA.send({ type: 'items', collection: 'notes', action: 'read', id: note.id, uid: 'r' });
      const final = (await aliceOnA.next((f) => f.uid === 'r'))['data'] as { n: number; updated_at: string };
      expect(await aliceOnB.next(events)).toMatchObject({ event: 'create', data: [{ n: 0 }] });
      const seen: Array<{ n: number; updated_at: string }> = [];
      while (seen.at(-1)?.updated_at !== final.updated_at) seen.push(((await aliceOnB.next(events))['data'] as Array<{ n: number; updated_at: string }>)[0]!);
      // Update times grow with each commit here (one writer node): received in commit order, none twice.
      const times = seen.map((e) => e.updated_at);
      expect([...new Set(times)].sort()).toEqual(times);
      expect(seen.at(-1)?.n).toBe(final.n);
      await aliceOnB.sync();
      expect(aliceOnB.pending('subscription')).toEqual([]);
      await bobOnC.sync();
      expect(bobOnC.pending('subscription')).toEqual([]);
    });
  });
}

withService('collections over Redis', 'REDIS_URL', REDIS_URL, (redisUrl) =>
  withService('collections over Redis (MongoDB)', 'MONGODB_URL', MONGODB_URL, (mongo) => suite('Redis', { redisUrl }, mongo)),
);
withService('collections over Redis Cluster', 'REDIS_CLUSTER_NODES', REDIS_CLUSTER_NODES, (nodes) =>
  withService('collections over Redis Cluster (MongoDB)', 'MONGODB_URL', MONGODB_URL, (mongo) => suite('Redis Cluster', { redisClusterNodes: nodes }, mongo)),
);
