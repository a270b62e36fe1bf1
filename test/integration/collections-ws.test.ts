/**
 * Collections over the WebSocket: access levels per action, queries, data subscriptions (init,
 * events filtered by query and by access, unsubscribe, uid reuse), logout stopping owner events,
 * and bad input answered with clear errors while the hub goes on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PUBLIC_ROOT_ID } from '../../src/auth/identity.js';
import type { RunningHub } from '../../src/node.js';
import { testCollections } from '../collections-fixtures.js';
import { closeClients, connect, post, signToken, startHub, stopAll, type Frame, type TestClient } from '../helpers.js';

afterEach(async () => {
  await closeClients();
  await stopAll();
});

const start = () => startHub({}, { collections: testCollections() });
const items = (client: TestClient, frame: Record<string, unknown>) => client.request({ type: 'items', ...frame });
/** Sends a frame that carries its own uid and awaits the reply with it. */
const withUid = (client: TestClient, frame: Record<string, unknown> & { uid: string }) => {
  client.send(frame);
  return client.next((f) => f.uid === frame.uid);
};
const errorCode = (f: Frame) => (f['error'] as { code: string } | undefined)?.code;

async function user(hub: RunningHub) {
  const { token, rootId } = await signToken();
  const client = await connect(hub);
  expect(await client.request({ type: 'auth', access_token: token })).toMatchObject({ type: 'auth', status: 'ok' });
  return { client, rootId, token };
}

describe('items frames', () => {
  it('applies each access level to each action', async () => {
    const hub = await start();
    const anon = await connect(hub);
    const alice = await user(hub);
    const bob = await user(hub);

    // public: anyone, the public connection included.
    const todo = await items(anon, { collection: 'todos', action: 'create', data: { text: 'milk' } });
    expect(todo).toMatchObject({ type: 'items', data: { text: 'milk', done: false, owner: PUBLIC_ROOT_ID } });
    const todoId = (todo['data'] as { id: string }).id;
    expect(await items(bob.client, { collection: 'todos', action: 'update', id: todoId, data: { done: true } })).toMatchObject({ data: { id: todoId, done: true } });
    expect(await items(anon, { collection: 'todos', action: 'read' })).toMatchObject({ data: [{ id: todoId, done: true }] });
    expect(await items(anon, { collection: 'todos', action: 'delete', id: todoId })).toEqual({ type: 'items', data: todoId, uid: expect.any(String) });

    // authenticated: the public connection is refused; owner: only the author.
    expect(errorCode(await items(anon, { collection: 'posts', action: 'create', data: { body: 'hi' } }))).toBe('unauthorized');
    const post1 = await items(alice.client, { collection: 'posts', action: 'create', data: { body: 'hi' } });
    const postId = (post1['data'] as { id: string }).id;
    expect(await items(anon, { collection: 'posts', action: 'read', id: postId })).toMatchObject({ data: { id: postId, body: 'hi', owner: alice.rootId } });
    expect(errorCode(await items(bob.client, { collection: 'posts', action: 'update', id: postId, data: { body: 'mine now' } }))).toBe('forbidden');
    expect(await items(alice.client, { collection: 'posts', action: 'update', id: postId, data: { body: 'edited' } })).toMatchObject({ data: { body: 'edited' } });
    // none: nobody over the socket, whatever the action.
    expect(errorCode(await items(alice.client, { collection: 'posts', action: 'delete', id: postId }))).toBe('forbidden');
    for (const action of ['create', 'read', 'update', 'delete']) {
      const reply = await items(alice.client, { collection: 'audit', action, data: { what: 'x' }, id: 'x' });
      expect(errorCode(reply)).toBe('forbidden');
      expect((reply['error'] as { message: string }).message).toContain('not open to clients');
    }

    // owner read: each user reads only their own; another's item is not found, not forbidden.
    const note = await items(alice.client, { collection: 'notes', action: 'create', data: { title: 'a' } });
    const noteId = (note['data'] as { id: string }).id;
    await items(bob.client, { collection: 'notes', action: 'create', data: { title: 'b' } });
    expect(await items(alice.client, { collection: 'notes', action: 'read' })).toMatchObject({ data: [{ id: noteId, title: 'a' }] });
    expect((await items(bob.client, { collection: 'notes', action: 'read' }))['data']).toMatchObject([{ title: 'b' }]);
    expect(errorCode(await items(bob.client, { collection: 'notes', action: 'read', id: noteId }))).toBe('not_found');
    expect(errorCode(await items(bob.client, { collection: 'notes', action: 'update', id: noteId, data: { title: 'x' } }))).toBe('not_found');
    expect(errorCode(await items(bob.client, { collection: 'notes', action: 'delete', id: noteId }))).toBe('not_found');
    expect(errorCode(await items(anon, { collection: 'notes', action: 'read' }))).toBe('unauthorized');
    expect(await items(alice.client, { collection: 'notes', action: 'delete', ids: [noteId] })).toMatchObject({ data: [noteId] });
  });

  it('reads with filters, sorts, paging and fields, and names unknown fields and operators', async () => {
    const hub = await start();
    const alice = await user(hub);
    const made = [];
    for (const [title, n, tag] of [['a', 3, 'x'], ['b', 1, 'y'], ['c', 2, 'x'], ['d', 5, 'z']] as const) {
      made.push(((await items(alice.client, { collection: 'notes', action: 'create', data: { title, n, tag } }))['data'] as { id: string }).id);
    }
    const read = async (query: Record<string, unknown>) => ((await items(alice.client, { collection: 'notes', action: 'read', query }))['data'] as Array<{ title: string }>).map((i) => i.title ?? i);
    expect(await read({ filter: { tag: { _eq: 'x' } }, sort: '-n' })).toEqual(['a', 'c']);
    expect(await read({ filter: { _or: [{ n: { _gte: 5 } }, { tag: { _in: ['y'] } }] } })).toEqual(['b', 'd']);
    expect(await read({ filter: { title: { _neq: 'a' }, n: { _lt: 3 } }, sort: ['n'] })).toEqual(['b', 'c']);
    expect(await read({ sort: '-created_at', limit: 2, offset: 1 })).toEqual(['c', 'b']);
    expect(await read({ filter: { title: { _contains: 'd' } } })).toEqual(['d']);
    const fields = await items(alice.client, { collection: 'notes', action: 'read', query: { fields: 'id,title', limit: 1 } });
    expect(fields['data']).toEqual([{ id: made[0], title: 'a' }]);
    expect(await items(alice.client, { collection: 'notes', action: 'read', ids: [made[3], made[1]], query: { fields: ['title'] } })).toMatchObject({ data: [{ title: 'b' }, { title: 'd' }] });

    const bad = await items(alice.client, { collection: 'notes', action: 'read', query: { filter: { colour: { _eq: 1 }, n: { _like: 2 }, _not: [] }, sort: '-size', fields: ['*', 'nope'] } });
    expect(bad).toMatchObject({ type: 'error', error: { code: 'invalid_query' } });
    const issues = (bad['error'] as { issues: Array<{ path: string; message: string }> }).issues;
    expect(issues.map((i) => i.path)).toEqual(['query.filter.colour', 'query.filter.n._like', 'query.filter._not', 'query.sort', 'query.fields']);
    expect(issues[0]?.message).toContain('unknown field "colour"');
    expect(issues[1]?.message).toContain('unknown operator "_like"');
    expect(issues[3]?.message).toContain('unknown field "size"');
    // Unknown query keys are named by the frame check.
    expect(await items(alice.client, { collection: 'notes', action: 'read', query: { search: 'x' } })).toMatchObject({ error: { code: 'invalid_frame', issues: [{ path: 'query' }] } });
  });

  it('answers bad input with clear errors, the uid kept, and the hub unaffected', async () => {
    const hub = await start();
    const alice = await user(hub);
    const cases: Array<[Record<string, unknown>, string, string?]> = [
      [{ collection: 'nope', action: 'read' }, 'unknown_collection', 'notes'],
      [{ collection: 'notes', action: 'create', data: { title: '' } }, 'invalid_item', 'title'],
      [{ collection: 'notes', action: 'create', data: { title: 'x', extra: 1 } }, 'invalid_item', 'extra'],
      [{ collection: 'notes', action: 'create', data: { title: 'x', id: 'mine' } }, 'invalid_item', 'kept by the hub'],
      [{ collection: 'notes', action: 'create', data: 'text' }, 'invalid_item'],
      [{ collection: 'notes', action: 'create' }, 'invalid_frame', 'data'],
      [{ collection: 'notes', action: 'update', data: { title: 'x' } }, 'invalid_frame', 'id or ids'],
      [{ collection: 'notes', action: 'upsert' }, 'invalid_frame'],
      [{ collection: 'notes', action: 'read', query: { limit: 5000 } }, 'invalid_frame', '1000'],
      [{ collection: 'notes', action: 'read', query: { limit: -1 } }, 'invalid_frame'],
      [{ collection: 'notes', action: 'read', query: { filter: { title: 'x' } } }, 'invalid_query', 'operators'],
      [{ collection: 'notes', action: 'read', query: { filter: { _and: [{ _and: [{ _and: [{ _and: [{ _and: [{ _and: [{ title: { _eq: 'x' } }] }] }] }] }] }] } } }, 'invalid_query', 'nest'],
      [{ collection: 'notes', action: 'read', query: { filter: { _or: Array.from({ length: 20 }, () => ({ n: { _gt: 1, _lt: 9, _neq: 4 } })) } } }, 'invalid_query', 'at most 50'],
      [{ collection: 'notes', action: 'read', query: { filter: { n: { _in: [] } } } }, 'invalid_query'],
      [{ collection: 'notes', action: 'read', query: { filter: { n: { _eq: { $gt: 1 } } } } }, 'invalid_query'],
      [{ collection: 'notes', action: 'read', id: 'missing' }, 'not_found'],
    ];
    for (const [frame, code, mentions] of cases) {
      const reply = await items(alice.client, frame);
      expect(reply, JSON.stringify(frame)).toMatchObject({ type: 'error', error: { code }, uid: expect.any(String) });
      if (mentions) expect(JSON.stringify(reply['error']), JSON.stringify(frame)).toContain(mentions);
    }
    expect(await alice.client.request({ type: 'auth', access_token: 'not-a-token' })).toMatchObject({ type: 'error', error: { code: 'invalid_token' } });
    // Still the same user, and the hub still answers.
    expect(await items(alice.client, { collection: 'notes', action: 'create', data: { title: 'fine' } })).toMatchObject({ data: { title: 'fine', owner: alice.rootId } });
    expect(await alice.client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
  });
});

describe('a hub without collections', () => {
  it('answers items and data subscriptions with unknown_collection, and channel frames as before', async () => {
    const hub = await startHub();
    const client = await connect(hub);
    expect(await items(client, { collection: 'notes', action: 'read' })).toMatchObject({ type: 'error', error: { code: 'unknown_collection', message: 'No collections are loaded on this hub' } });
    expect(await client.request({ type: 'subscribe', collection: 'notes' })).toMatchObject({ type: 'error', error: { code: 'unknown_collection' } });
    expect(await client.request({ type: 'subscribe', channel_ids: ['room'] })).toMatchObject({ type: 'subscribed' });
    expect((await fetch(`${hub.url}/items/notes`)).status).toBe(404);
  });
});

describe('data subscriptions', () => {
  const subscription = (f: Frame) => f.type === 'subscription';

  it('sends init, then events filtered by query and by access; an update leaving the filter is a delete', async () => {
    const hub = await start();
    const alice = await user(hub);
    const bob = await user(hub);
    await items(alice.client, { collection: 'notes', action: 'create', data: { title: 'old', tag: 'x' } });
    expect(await alice.client.request({ type: 'subscribe', collection: 'notes', query: { filter: { tag: { _eq: 'x' } }, fields: ['title', 'tag'] } })).toEqual({
      type: 'subscription',
      event: 'init',
      data: [{ title: 'old', tag: 'x' }],
      uid: expect.any(String),
    });
    const aliceSub = (await withUid(alice.client, { type: 'subscribe', collection: 'notes', uid: 'all' })) as Frame;
    expect(aliceSub).toMatchObject({ event: 'init', uid: 'all', data: [{ title: 'old' }] });
    expect(await withUid(bob.client, { type: 'subscribe', collection: 'notes', uid: 'mine' })).toEqual({ type: 'subscription', event: 'init', data: [], uid: 'mine' });

    const created = (await items(alice.client, { collection: 'notes', action: 'create', data: { title: 'new', tag: 'x' } }))['data'] as { id: string };
    const events = [await alice.client.next(subscription), await alice.client.next(subscription)];
    expect(events).toEqual(
      expect.arrayContaining([
        { type: 'subscription', event: 'create', data: [{ title: 'new', tag: 'x' }], uid: expect.any(String) },
        { type: 'subscription', event: 'create', data: [expect.objectContaining({ id: created.id, title: 'new', owner: alice.rootId })], uid: 'all' },
      ]),
    );
    // Outside alice's filter: only the unfiltered subscription hears it.
    await items(alice.client, { collection: 'notes', action: 'create', data: { title: 'other', tag: 'y' } });
    expect(await alice.client.next(subscription)).toMatchObject({ event: 'create', uid: 'all', data: [{ title: 'other' }] });
    // Moved out of the filter: a delete for the filtered one, an update for the other.
    await items(alice.client, { collection: 'notes', action: 'update', id: created.id, data: { tag: 'z' } });
    const moved = [await alice.client.next(subscription), await alice.client.next(subscription)];
    expect(moved).toEqual(expect.arrayContaining([expect.objectContaining({ event: 'delete', data: [created.id] }), expect.objectContaining({ event: 'update', uid: 'all' })]));
    await items(alice.client, { collection: 'notes', action: 'delete', id: created.id });
    expect(await alice.client.next(subscription)).toMatchObject({ event: 'delete', uid: 'all', data: [created.id] });
    await alice.client.sync();
    expect(alice.client.pending('subscription')).toEqual([]);

    // Bob (owner-read) never heard any of alice's notes; his own arrive.
    await bob.client.sync();
    expect(bob.client.pending('subscription')).toEqual([]);
    await items(bob.client, { collection: 'notes', action: 'create', data: { title: 'bobs' } });
    expect(await bob.client.next(subscription)).toMatchObject({ event: 'create', uid: 'mine', data: [{ title: 'bobs', owner: bob.rootId }] });
    await alice.client.sync();
    expect(alice.client.pending('subscription')).toEqual([]);
  });

  it('unsubscribes by uid or all, replaces a reused uid, and honours event', async () => {
    const hub = await start();
    const anon = await connect(hub);
    const writer = await connect(hub);
    await withUid(anon, { type: 'subscribe', collection: 'todos', uid: 'a' });
    await withUid(anon, { type: 'subscribe', collection: 'todos', uid: 'b', event: 'delete' });
    // Reusing `a`: the new query replaces the old one.
    expect(await withUid(anon, { type: 'subscribe', collection: 'todos', uid: 'a', query: { filter: { done: { _eq: true } } } })).toMatchObject({ event: 'init', uid: 'a' });
    const todo = (await items(writer, { collection: 'todos', action: 'create', data: { text: 't' } }))['data'] as { id: string };
    await items(writer, { collection: 'todos', action: 'update', id: todo.id, data: { done: true } });
    expect(await anon.next((f) => f.type === 'subscription')).toMatchObject({ event: 'update', uid: 'a', data: [{ id: todo.id, done: true }] });
    await items(writer, { collection: 'todos', action: 'delete', id: todo.id });
    const deletes = [await anon.next((f) => f.type === 'subscription'), await anon.next((f) => f.type === 'subscription')];
    expect(deletes.map((d) => d['uid']).sort()).toEqual(['a', 'b']);
    await anon.sync();
    expect(anon.pending('subscription')).toEqual([]);

    expect(await withUid(anon, { type: 'unsubscribe', uid: 'a' })).toEqual({ type: 'subscription', event: 'unsubscribe', uid: 'a' });
    const second = (await items(writer, { collection: 'todos', action: 'create', data: { text: 'u' } }))['data'] as { id: string };
    await items(writer, { collection: 'todos', action: 'delete', id: second.id });
    expect(await anon.next((f) => f.type === 'subscription')).toMatchObject({ event: 'delete', uid: 'b' });
    anon.send({ type: 'unsubscribe' });
    expect(await anon.next((f) => f.type === 'subscription')).toEqual({ type: 'subscription', event: 'unsubscribe' });
    await items(writer, { collection: 'todos', action: 'create', data: { text: 'v' } });
    await anon.sync();
    expect(anon.pending('subscription')).toEqual([]);
    // Channel frames are unchanged.
    expect(await anon.request({ type: 'subscribe', channel_ids: ['room'] })).toMatchObject({ type: 'subscribed', channel_ids: expect.arrayContaining(['room']) });
    expect(await anon.request({ type: 'subscribe', channel_ids: ['room'], collection: 'todos' })).toMatchObject({ type: 'error', error: { code: 'invalid_frame' } });
  });

  it('refuses subscriptions the connection may not read, with the uid', async () => {
    const hub = await start();
    const anon = await connect(hub);
    expect(await anon.request({ type: 'subscribe', collection: 'notes' })).toMatchObject({ type: 'error', error: { code: 'unauthorized' } });
    expect(await anon.request({ type: 'subscribe', collection: 'audit' })).toMatchObject({ type: 'error', error: { code: 'forbidden' } });
    expect(await anon.request({ type: 'subscribe', collection: 'nope' })).toMatchObject({ type: 'error', error: { code: 'unknown_collection' } });
    expect(await anon.request({ type: 'subscribe', collection: 'todos', query: { filter: { colour: { _eq: 1 } } } })).toMatchObject({ type: 'error', error: { code: 'invalid_query' } });
  });

  it('stops owner events for a user who logs out', async () => {
    const hub = await start();
    const email = `coll-${Date.now()}@example.com`;
    expect((await post(hub, '/user/register', { email, password: 'correct horse battery' })).status).toBe(201);
    const login = await post(hub, '/user/login', { email, password: 'correct horse battery' });
    const token = login.body['token'] as string;
    const rootId = (login.body['user'] as { root_id: string }).root_id;
    const socket = await connect(hub, { token });
    expect(await withUid(socket, { type: 'subscribe', collection: 'notes', uid: 'n' })).toMatchObject({ event: 'init', data: [] });
    // The server writes for that user (a walker or a backend): the owner hears it.
    await hub.collections.create('notes', { identity: null, owner: rootId }, { title: 'one' });
    expect(await socket.next((f) => f.type === 'subscription')).toMatchObject({ event: 'create', data: [{ title: 'one' }] });
    expect((await post(hub, '/user/logout', undefined, { token })).status).toBe(200);
    expect(await socket.next('connection')).toMatchObject({ data: { root_id: PUBLIC_ROOT_ID } });
    await hub.collections.create('notes', { identity: null, owner: rootId }, { title: 'two' });
    await socket.sync();
    expect(socket.pending('subscription')).toEqual([]);
  });
});
