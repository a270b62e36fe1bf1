/**
 * The SDK's collections API against a real hub: `hub.items(C)` CRUD with the hub's refusals, and
 * `hub.subscribeItems(C, query, handler)` keeping an app's list in step, re-subscribing after the
 * hub restarts (its init replaces the list, including what changed while the socket was gone).
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect, type HubClient, type ItemsEvent } from '../../src/client/index.js';
import { createLmdbStore } from '../../src/store/lmdb.js';
import { testCollections } from '../collections-fixtures.js';
import { signToken, startHub, stopAll, tempDir } from '../helpers.js';

const clients = new Set<HubClient>();
const FAST = { minDelayMs: 10, maxDelayMs: 50, factor: 2 };

afterEach(async () => {
  for (const c of clients) c.close();
  clients.clear();
  await stopAll();
});

function client(url: string, token?: string): HubClient {
  const c = connect(url, { WebSocket, backoff: FAST, ...(token ? { token } : {}) });
  clients.add(c);
  return c;
}

type Todo = { id: string; text: string; done: boolean };

/** An app's list, kept by the handler: init replaces it, create/update upsert, delete removes. */
function liveList() {
  const items = new Map<string, Todo>();
  const waiters: Array<{ test: () => boolean; resolve: () => void }> = [];
  const handler = (e: ItemsEvent<Todo>) => {
    if (e.event === 'init') items.clear();
    if (e.event === 'delete') for (const id of e.data as string[]) items.delete(id);
    else for (const item of e.data as Todo[]) items.set(item.id, item);
    for (const w of waiters.splice(0)) if (w.test()) w.resolve();
    else waiters.push(w);
  };
  const texts = () => [...items.values()].map((i) => i.text).sort();
  const until = (test: () => boolean) => (test() ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ test, resolve })));
  return { handler, texts, until };
}

describe('SDK collections', () => {
  it('creates, reads, updates and deletes, rejecting refusals with the hub\'s code', async () => {
    const hub = await startHub({}, { collections: testCollections() });
    const { token, rootId } = await signToken();
    const c = client(hub.url, token);
    await c.ready;
    const notes = c.items<{ id: string; title: string; n?: number; owner: string }>('notes');
    const one = await notes.create({ title: 'a', n: 1 });
    expect(one).toMatchObject({ title: 'a', owner: rootId });
    const two = await notes.create([{ title: 'b' }, { title: 'c' }]);
    expect(two.map((n) => n.title)).toEqual(['b', 'c']);
    expect((await notes.read({ sort: '-title', limit: 2 })).map((n) => n.title)).toEqual(['c', 'b']);
    expect(await notes.get(one.id, { fields: ['title'] })).toEqual({ title: 'a' });
    expect(await notes.update(one.id, { n: 5 })).toMatchObject({ n: 5 });
    expect(await notes.delete([two[0]!.id, two[1]!.id])).toEqual([two[0]!.id, two[1]!.id]);
    expect(await notes.delete(one.id)).toEqual([one.id]);
    await expect(notes.create({ title: '' })).rejects.toMatchObject({ code: 'invalid_item', status: 422 });
    await expect(notes.get('missing')).rejects.toMatchObject({ code: 'not_found' });
    await expect(c.items('audit').read()).rejects.toMatchObject({ code: 'forbidden' });
    await expect(c.items('nope').read()).rejects.toMatchObject({ code: 'unknown_collection' });
  });

  it('keeps a live list in step and re-subscribes after the hub restarts; the new init replaces the list', async () => {
    const dataDir = tempDir();
    let hub = await startHub({ dataDir }, { collections: testCollections() });
    const port = hub.port;
    const c = client(hub.url);
    await c.ready;
    const list = liveList();
    const todos = c.items<Todo>('todos');
    await todos.create({ text: 'before' });
    const sub = await c.subscribeItems<Todo>('todos', { filter: { done: { _eq: false } } }, list.handler);
    expect(list.texts()).toEqual(['before']);
    const milk = await todos.create({ text: 'milk' });
    await list.until(() => list.texts().length === 2);
    // Done: it leaves the filter, so the list drops it.
    await todos.update(milk.id, { done: true });
    await list.until(() => list.texts().length === 1);
    expect(list.texts()).toEqual(['before']);

    // The hub goes away; while it is down an item is written straight into its store.
    const reconnected = new Promise((resolve) => c.on('reconnect', resolve));
    await hub.close();
    const store = await createLmdbStore(dataDir);
    const t = new Date().toISOString().replace('Z', '000Z');
    await store.items.insert('todos', { id: 'offline', owner: null, created: t, updated: t, rev: 1, data: { text: 'while away', done: false } });
    await store.close();
    hub = await startHub({ dataDir, port }, { collections: testCollections() });
    await reconnected;
    expect(list.texts()).toEqual(['before', 'while away']);
    // Events flow again on the new connection.
    await todos.create({ text: 'after' });
    await list.until(() => list.texts().includes('after'));

    await sub.unsubscribe();
    await todos.create({ text: 'unheard' });
    expect(await todos.read({ fields: ['text'], sort: '-created_at', limit: 1 })).toEqual([{ text: 'unheard' }]);
    expect(list.texts()).toEqual(['after', 'before', 'while away']);
    await expect(c.subscribeItems('notes', undefined, () => undefined)).rejects.toMatchObject({ code: 'unauthorized' });
  });
});
