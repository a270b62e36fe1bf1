/**
 * Socket-free: the query compiler (public names to store paths, every problem named) and the live
 * subscriptions' delivery with fake connections (access per subscriber per event, filters, an
 * update leaving a filter sent as a delete, events held until init, replacement and removal).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { publicIdentity, type Identity } from '../../src/auth/identity.js';
import { defineCollection } from '../../src/collections/define.js';
import { ChangeFeed } from '../../src/collections/feed.js';
import { LiveSubscriptions, type LiveSubscription, type Subscriber } from '../../src/collections/live.js';
import { collectionsFrom } from '../../src/collections/loader.js';
import { compileQuery } from '../../src/collections/query.js';
import { HubError } from '../../src/errors.js';
import type { StoredItem } from '../../src/store/items.js';

const collections = collectionsFrom({
  notes: defineCollection({
    schema: z.object({ title: z.string(), n: z.number() }),
    access: { read: 'owner', create: 'authenticated' },
    timestamps: { created: 'date_created' },
  }),
});
const notes = collections.get('notes')!;

const user = (root: string): Identity => ({ root_id: root, user_id: `u-${root}`, claims: {}, expiresAt: null, tokenId: null, issuedAt: null });

class FakeConn {
  readonly sent: Array<Record<string, unknown>> = [];
  send(frame: string): void {
    this.sent.push(JSON.parse(frame) as Record<string, unknown>);
  }
}

function subscriber(identity: Identity): Subscriber & { identity: Identity; conn: FakeConn } {
  return { identity, conn: new FakeConn() };
}

function subscribe(live: LiveSubscriptions, who: Subscriber, uid: string | undefined, query?: Parameters<typeof compileQuery>[1]): LiveSubscription {
  const compiled = compileQuery(notes, query);
  const sub: LiveSubscription = { subscriber: who, uid, collection: notes, filter: compiled.store.filter, project: compiled.project, fieldsKey: compiled.fieldsKey, event: undefined, pending: [] };
  expect(live.add(sub)).toBe(true);
  live.started(sub, []);
  return sub;
}

let rev = 0;
const item = (owner: string, data: Record<string, unknown>, id = `i${++rev}`): StoredItem => ({ id, owner, created: '2026-01-01T00:00:00.000000Z', updated: '2026-01-01T00:00:00.000000Z', rev: 1, data });

describe('compileQuery', () => {
  it('maps public names to store paths, defaults to creation order and 100 items', () => {
    const q = compileQuery(notes, { filter: { title: { _eq: 'x' }, date_created: { _gt: '2026' } }, sort: 'n,-date_created', fields: 'id,title' });
    expect(q.store).toEqual({
      filter: { kind: 'and', all: [{ kind: 'cmp', path: 'data.title', op: 'eq', value: 'x' }, { kind: 'cmp', path: 'created', op: 'gt', value: '2026' }] },
      sort: [{ path: 'data.n', dir: 1 }, { path: 'created', dir: -1 }],
      limit: 100,
      offset: 0,
    });
    expect(q.project(item('n::a', { title: 't', n: 1 }, 'x1'))).toEqual({ id: 'x1', title: 't' });
    expect(compileQuery(notes, undefined).store).toMatchObject({ filter: null, sort: [{ path: 'created', dir: 1 }] });
  });

  it('names every unknown field and operator at once', () => {
    let err: unknown;
    try {
      compileQuery(notes, { filter: { nope: { _eq: 1 }, n: { _between: [1, 2] }, _or: [{ title: { _in: 'x' } }] }, sort: ['created_at'], fields: ['*', 'x'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).issues?.map((i) => i.path)).toEqual(['query.filter.nope', 'query.filter.n._between', 'query.filter._or.0.title._in', 'query.sort', 'query.fields']);
  });
});

describe('LiveSubscriptions', () => {
  it('checks access per subscriber per event with the identity of that moment', () => {
    const live = new LiveSubscriptions();
    const alice = subscriber(user('n::a'));
    const bob = subscriber(user('n::b'));
    subscribe(live, alice, 'a');
    subscribe(live, bob, 'b');
    live.deliver({ collection: 'notes', action: 'create', items: [{ before: null, after: item('n::a', { title: 'mine', n: 1 }) }] });
    expect(alice.conn.sent.map((f) => f['event'])).toEqual(['init', 'create']);
    expect(bob.conn.sent.map((f) => f['event'])).toEqual(['init']);
    // Logged out: the same subscription hears nothing more of alice's items.
    alice.identity = publicIdentity;
    live.deliver({ collection: 'notes', action: 'create', items: [{ before: null, after: item('n::a', { title: 'later', n: 1 }) }] });
    expect(alice.conn.sent).toHaveLength(2);
  });

  it('sends an update that leaves the filter as a delete, holds events until init, replaces a reused uid', () => {
    const live = new LiveSubscriptions();
    const alice = subscriber(user('n::a'));
    subscribe(live, alice, 'big', { filter: { n: { _gte: 10 } }, fields: ['title'] });
    const before = item('n::a', { title: 't', n: 10 });
    const after = { ...before, rev: 2, data: { title: 't', n: 3 } };
    live.deliver({ collection: 'notes', action: 'update', items: [{ before, after }] });
    expect(alice.conn.sent.at(-1)).toEqual({ type: 'subscription', event: 'delete', data: [before.id], uid: 'big' });

    // A new subscription under the same uid replaces it; until its init is out, events wait.
    const compiled = compileQuery(notes, undefined);
    const fresh: LiveSubscription = { subscriber: alice, uid: 'big', collection: notes, filter: null, project: compiled.project, fieldsKey: '*', event: undefined, pending: [] };
    live.add(fresh);
    expect(live.size).toBe(1);
    live.deliver({ collection: 'notes', action: 'create', items: [{ before: null, after: item('n::a', { title: 'held', n: 1 }) }] });
    const count = alice.conn.sent.length;
    live.started(fresh, [before]);
    expect(alice.conn.sent.slice(count).map((f) => f['event'])).toEqual(['init', 'create']);
    expect(live.remove(alice)).toBe(1);
    expect(live.watched('notes')).toBe(false);
  });

  it('delivers a change once per node, dropping one older than the last seen for that item', () => {
    const live = new LiveSubscriptions();
    const alice = subscriber(user('n::a'));
    subscribe(live, alice, 'a');
    const sent: unknown[] = [];
    let remote: ((m: unknown) => void) | null = null;
    const feed = new ChangeFeed(live, { on: (_t, _s, handle) => void (remote = handle as (m: unknown) => void), send: (_t, body) => void sent.push(body) });
    const v1 = item('n::a', { title: 'v', n: 1 }, 'same');
    const v3 = { ...v1, rev: 3, data: { title: 'v', n: 3 } };
    feed.publish({ collection: 'notes', action: 'update', items: [{ before: v1, after: v3 }] });
    expect(sent).toHaveLength(1);
    // Rev 2 from another node arrives late: dropped.
    remote!({ collection: 'notes', action: 'update', items: [{ before: v1, after: { ...v1, rev: 2 } }] });
    expect(alice.conn.sent.map((f) => f['event'])).toEqual(['init', 'update']);
    remote!({ collection: 'notes', action: 'delete', items: [{ before: v3, after: null }] });
    expect(alice.conn.sent.at(-1)).toMatchObject({ event: 'delete', data: ['same'] });
  });
});

describe('CollectionFrames', () => {
  it('lets a connection have at most MAX_INFLIGHT_ITEM_REQUESTS items requests waiting on the store', async () => {
    const { CollectionFrames, MAX_INFLIGHT_ITEM_REQUESTS } = await import('../../src/collections/frames.js');
    const { silentLogger } = await import('../../src/log.js');
    const waiting: Array<() => void> = [];
    // Only what `items` create uses: each create waits until the test releases it.
    const fake = { create: () => new Promise((resolve) => waiting.push(() => resolve([{ id: 'x' }]))) };
    const frames = new CollectionFrames(fake as never, new LiveSubscriptions(), silentLogger);
    const alice = subscriber(user('n::a'));
    const failures: string[] = [];
    const create = () => frames.items(alice, { type: 'items', collection: 'notes', action: 'create', data: { title: 't', n: 1 } }, (err) => failures.push(err.code));
    for (let i = 0; i < MAX_INFLIGHT_ITEM_REQUESTS; i++) create();
    expect(failures).toEqual([]);
    create();
    expect(failures).toEqual(['too_many_requests']);
    // Another connection is not held up by alice's.
    frames.items(subscriber(user('n::b')), { type: 'items', collection: 'notes', action: 'create', data: {} }, (err) => failures.push(err.code));
    expect(failures).toHaveLength(1);
    waiting.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(alice.conn.sent.at(-1)).toMatchObject({ type: 'items', data: { id: 'x' } });
    create();
    expect(failures).toHaveLength(1);
  });
});
