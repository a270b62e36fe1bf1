/**
 * Collections outside the socket: REST `/items/:collection` (Directus-style `{"data":...}` bodies,
 * the socket's access rules, a server API key acting as the server), walkers' `ctx.items`, and the
 * OpenAPI document generated from each collection's schema. Writes from both reach subscribers.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineWalker } from '../../src/walkers/define.js';
import type { RunningHub } from '../../src/node.js';
import { testCollections } from '../collections-fixtures.js';
import { closeClients, connect, post, signToken, startHub, stopAll, walkersFrom } from '../helpers.js';

afterEach(async () => {
  await closeClients();
  await stopAll();
});

const KEY = 'a-server-key-of-enough-length';

const walkers = walkersFrom({
  add_note: defineWalker({
    input: z.object({ title: z.string() }),
    run: async (ctx, input) => {
      const note = await ctx.items('notes').create({ title: input.title, n: 1 });
      const updated = await ctx.items('notes').update(note['id'] as string, { n: 2 });
      const mine = await ctx.items('notes').read({ filter: { owner: { _eq: ctx.root_id } }, sort: '-n' });
      return { note, updated, count: mine.length };
    },
  }),
  bad_collection: defineWalker({ run: (ctx) => ctx.items('nope').read() }),
  bad_item: defineWalker({ run: (ctx) => ctx.items('notes').create({ title: 7 }) }),
});

async function rest(hub: RunningHub, method: string, path: string, init: { token?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers['Authorization'] = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${hub.url}${path}`, { method, headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
}

describe('REST /items', () => {
  it('creates, reads, changes and deletes with the access rules, and subscribers hear it', async () => {
    const hub = await startHub({ apiKeys: KEY }, { collections: testCollections() });
    const alice = await signToken();
    const bob = await signToken();
    const watcher = await connect(hub, { token: alice.token });
    await watcher.request({ type: 'subscribe', collection: 'notes' });

    expect(await rest(hub, 'POST', '/items/notes', { body: { title: 'x' } })).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    const created = await rest(hub, 'POST', '/items/notes', { token: alice.token, body: { title: 'first', tag: 't' } });
    expect(created).toMatchObject({ status: 200, body: { data: { title: 'first', owner: alice.rootId } } });
    const id = (created.body?.['data'] as { id: string }).id;
    expect(await watcher.next((f) => f.type === 'subscription')).toMatchObject({ event: 'create', data: [{ id }] });

    expect(await rest(hub, 'GET', `/items/notes/${id}`, { token: alice.token })).toMatchObject({ status: 200, body: { data: { id, title: 'first' } } });
    expect(await rest(hub, 'GET', `/items/notes/${id}`, { token: bob.token })).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    const q = new URLSearchParams({ filter: JSON.stringify({ tag: { _eq: 't' } }), sort: '-created_at', limit: '1', fields: 'id,title' });
    expect(await rest(hub, 'GET', `/items/notes?${q}`, { token: alice.token })).toEqual({ status: 200, body: { data: [{ id, title: 'first' }] } });
    expect(await rest(hub, 'GET', '/items/notes?filter=nope', { token: alice.token })).toMatchObject({ status: 400, body: { error: { code: 'invalid_query' } } });
    expect(await rest(hub, 'GET', '/items/notes?limit=5000', { token: alice.token })).toMatchObject({ status: 400, body: { error: { code: 'invalid_query', issues: [{ path: 'query.limit' }] } } });
    expect(await rest(hub, 'GET', '/items/notes?sort=-colour', { token: alice.token })).toMatchObject({ status: 400, body: { error: { code: 'invalid_query' } } });

    expect(await rest(hub, 'PATCH', `/items/notes/${id}`, { token: bob.token, body: { title: 'no' } })).toMatchObject({ status: 404 });
    expect(await rest(hub, 'PATCH', `/items/notes/${id}`, { token: alice.token, body: { title: '' } })).toMatchObject({ status: 422, body: { error: { code: 'invalid_item', issues: [{ path: 'title' }] } } });
    expect(await rest(hub, 'PATCH', `/items/notes/${id}`, { token: alice.token, body: { n: 4 } })).toMatchObject({ status: 200, body: { data: { id, n: 4, title: 'first' } } });
    expect(await watcher.next((f) => f.type === 'subscription')).toMatchObject({ event: 'update', data: [{ n: 4 }] });

    // A server API key acts as the server: past `none` and `owner`, owning nothing it creates.
    expect(await rest(hub, 'POST', '/items/audit', { token: KEY, body: { what: 'login' } })).toMatchObject({ status: 200, body: { data: { what: 'login', owner: null } } });
    expect(await rest(hub, 'POST', '/items/audit', { token: alice.token, body: { what: 'login' } })).toMatchObject({ status: 403 });
    expect(await rest(hub, 'GET', `/items/notes/${id}`, { token: KEY })).toMatchObject({ status: 200 });

    expect(await rest(hub, 'DELETE', `/items/notes/${id}`, { token: alice.token })).toEqual({ status: 204, body: null });
    expect(await watcher.next((f) => f.type === 'subscription')).toMatchObject({ event: 'delete', data: [id] });
    expect(await rest(hub, 'DELETE', `/items/notes/${id}`, { token: alice.token })).toMatchObject({ status: 404 });
    expect(await rest(hub, 'GET', '/items/nope', { token: alice.token })).toMatchObject({ status: 404, body: { error: { code: 'unknown_collection' } } });
    expect(await rest(hub, 'PUT', `/items/notes/${id}`, { token: alice.token, body: {} })).toMatchObject({ status: 405 });
    expect(await rest(hub, 'GET', '/items/notes', { token: 'not-a-token' })).toMatchObject({ status: 401, body: { error: { code: 'invalid_token' } } });
    const raw = await fetch(`${hub.url}/items/todos`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{nope' });
    expect(raw.status).toBe(400);
  });
});

describe('ctx.items', () => {
  it('lets walkers create, change and read as the server, owned by the caller, with the same events', async () => {
    const hub = await startHub({}, { collections: testCollections(), walkers });
    const alice = await signToken();
    const watcher = await connect(hub, { token: alice.token });
    await watcher.request({ type: 'subscribe', collection: 'notes' });
    const res = await post(hub, '/walker/add_note', { title: 'from a walker' }, { token: alice.token });
    expect(res).toMatchObject({ status: 200, body: { reports: [{ note: { title: 'from a walker', n: 1, owner: alice.rootId }, updated: { n: 2 }, count: 1 }] } });
    expect(await watcher.next((f) => f.type === 'subscription')).toMatchObject({ event: 'create', data: [{ n: 1 }] });
    expect(await watcher.next((f) => f.type === 'subscription')).toMatchObject({ event: 'update', data: [{ n: 2 }] });
    expect(await post(hub, '/walker/bad_collection', {}, { token: alice.token })).toMatchObject({ status: 404, body: { error: { code: 'unknown_collection' } } });
    expect(await post(hub, '/walker/bad_item', {}, { token: alice.token })).toMatchObject({ status: 422, body: { error: { code: 'invalid_item', issues: [{ path: 'title' }] } } });
  });
});

describe('OpenAPI for collections', () => {
  it('describes each collection\'s routes with its schema, and stays a valid document', async () => {
    const hub = await startHub({}, { collections: testCollections() });
    const doc = (await (await fetch(`${hub.url}/openapi.json`)).json()) as Record<string, unknown>;
    const result = await new Validator().validate(doc);
    expect(result.errors).toBeUndefined();
    const paths = doc['paths'] as Record<string, Record<string, unknown>>;
    for (const name of ['notes', 'posts', 'todos', 'audit']) {
      expect(Object.keys(paths[`/items/${name}`] ?? {})).toEqual(['get', 'post']);
      expect(Object.keys(paths[`/items/${name}/{id}`] ?? {})).toEqual(['get', 'patch', 'delete']);
    }
    const schemas = (doc['components'] as { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> }).schemas;
    expect(Object.keys(schemas['item.notes']?.properties ?? {}).sort()).toEqual(['created_at', 'id', 'n', 'owner', 'tag', 'title', 'updated_at']);
    expect(schemas['item.notes.create']?.required).toEqual(['title']);
    expect(schemas['item.todos.create']?.properties?.['done']).toMatchObject({ type: 'boolean', default: false });
  });
});
