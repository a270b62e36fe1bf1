/** The push API (POST /api/notify, /api/notify/batch) and ctx.broadcast, with real hubs and real ws clients. */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunningHub } from '../../src/node.js';
import { defineWalker } from '../../src/walkers/define.js';
import { closeClients, connect, post, signToken, startHub, stopAll, walkersFrom, type TestClient } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

const KEY = 'first-server-key-0123456789';
const NEXT_KEY = 'second-server-key-9876543210';
const PUBLIC_ROOT = 'n::000000000000000000000001';

const walkers = walkersFrom({
  announce: defineWalker({
    auth: false,
    input: z.object({ text: z.string() }),
    run: (ctx, { text }) => ctx.broadcast({ type: 'announce', data: { text } }),
  }),
  announce_bigint: defineWalker({
    auth: false,
    run: (ctx) => ctx.broadcast({ n: 1n }),
  }),
});

let shared: RunningHub | null = null;
async function hubWithKeys(): Promise<RunningHub> {
  shared ??= await startHub({ apiKeys: `${KEY},${NEXT_KEY}`, maxBodyBytes: 2048 }, { walkers });
  return shared;
}

const push = (hub: RunningHub, body: unknown, key: string | null = KEY, path = '/api/notify') =>
  post(hub, path, body, key === null ? {} : { headers: { 'X-API-Key': key } });

/** Nothing (more) reached these clients: the ping barrier, then an empty queue. */
async function expectNothing(...clients: TestClient[]): Promise<void> {
  for (const c of clients) {
    await c.sync();
    expect(c.pending()).toEqual([]);
  }
}

/** Two sockets of one user, one of another user, two public sockets in channel "lobby" and one elsewhere. */
async function population(hub: RunningHub) {
  const alice = await signToken();
  const bob = await signToken();
  const alice1 = await connect(hub, { token: alice.token });
  const alice2 = await connect(hub, { token: alice.token, query: '?channel_id=lobby' });
  const bob1 = await connect(hub, { token: bob.token });
  const lobby = await connect(hub, { query: '?channel_id=lobby' });
  const other = await connect(hub, { query: '?channel_id=elsewhere' });
  return { alice, bob, alice1, alice2, bob1, lobby, other, all: [alice1, alice2, bob1, lobby, other] };
}

describe('POST /api/notify', () => {
  it('delivers to users, channels and clients exactly like the matching frames, with local counts', async () => {
    const hub = await hubWithKeys();
    const p = await population(hub);

    expect(await push(hub, { users: [p.alice.rootId], data: { type: 'u', data: 1 } })).toMatchObject({ status: 202, body: { status: 202, delivered: { users: 2 } } });
    expect(await p.alice1.next('u')).toEqual({ type: 'u', data: 1 });
    expect(await p.alice2.next('u')).toEqual({ type: 'u', data: 1 });
    await expectNothing(p.bob1, p.lobby, p.other);

    // alice2 sits in lobby and is one of alice's sockets: once per delivery, per target list.
    expect((await push(hub, { channels: ['lobby', 'lobby'], data: { type: 'c' } })).body).toEqual({ status: 202, delivered: { channels: 2 } });
    expect(await p.lobby.next('c')).toEqual({ type: 'c' });
    expect(await p.alice2.next('c')).toEqual({ type: 'c' });
    await expectNothing(p.alice1, p.bob1, p.other, p.lobby, p.alice2);

    expect((await push(hub, { clients: [p.other.info.client_id, 'no-such-client'], data: 'raw string' })).body).toEqual({ status: 202, delivered: { clients: 1 } });
    expect(await p.other.next()).toBe('raw string');
    await expectNothing(...p.all);
  });

  it('broadcasts to every connected client, public and authenticated', async () => {
    const hub = await startHub({ apiKeys: KEY });
    const p = await population(hub);
    const res = await push(hub, { broadcast: true, data: { type: 'all', data: { n: 1 } } });
    expect(res).toMatchObject({ status: 202, body: { status: 202, delivered: { broadcast: 5 } } });
    for (const c of p.all) expect(await c.next('all')).toEqual({ type: 'all', data: { n: 1 } });
    await expectNothing(...p.all);
  });

  it('takes the Directual form: user_id (or "*") + event + message -> {"type": event, "data": message}', async () => {
    const hub = await startHub({ apiKeys: KEY });
    const p = await population(hub);
    const one = await push(hub, { user_id: p.bob.rootId, event: 'alert', message: { message: 'Hello world!', parameters: { duration: 4000 } } });
    expect(one.body).toEqual({ status: 202, delivered: { users: 1 } });
    expect(await p.bob1.next('alert')).toEqual({ type: 'alert', data: { message: 'Hello world!', parameters: { duration: 4000 } } });
    await expectNothing(...p.all);

    expect((await push(hub, { user_id: '*', event: 'refresh' })).body).toEqual({ status: 202, delivered: { broadcast: 5 } });
    for (const c of p.all) expect(await c.next('refresh')).toEqual({ type: 'refresh', data: null });
    // The public root is a user like any other: its sockets are the public ones.
    expect((await push(hub, { user_id: PUBLIC_ROOT, event: 'pub', message: 1 })).body).toEqual({ status: 202, delivered: { users: 2 } });
    expect(await p.lobby.next('pub')).toEqual({ type: 'pub', data: 1 });
    expect(await p.other.next('pub')).toEqual({ type: 'pub', data: 1 });
    await expectNothing(...p.all);
  });

  it('refuses a missing or wrong key with 401, takes either configured key by header or Bearer, never a user token', async () => {
    const hub = await hubWithKeys();
    const body = { broadcast: true, data: 1 };
    expect(await push(hub, body, null)).toMatchObject({ status: 401, body: { status: 401, error: { code: 'invalid_api_key' } } });
    expect(await push(hub, body, 'wrong-key-0123456789abcdef')).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } });
    expect(await push(hub, body, `${KEY}x`)).toMatchObject({ status: 401 });
    expect(await push(hub, body, KEY.slice(0, -1))).toMatchObject({ status: 401 });
    const { token } = await signToken();
    expect((await post(hub, '/api/notify', body, { token })).status).toBe(401);

    expect((await push(hub, body, KEY)).status).toBe(202);
    expect((await push(hub, body, NEXT_KEY)).status).toBe(202);
    expect((await post(hub, '/api/notify', body, { token: NEXT_KEY })).status).toBe(202);
    expect((await post(hub, '/api/notify', body, { headers: { Authorization: `Bearer ${KEY}` } })).status).toBe(202);
  });

  it('answers 404 when no key is configured, whatever is sent', async () => {
    const hub = await startHub();
    expect(await push(hub, { broadcast: true, data: 1 }, KEY)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect((await push(hub, { broadcast: true, data: 1 }, KEY, '/api/notify/batch')).status).toBe(404);
  });

  it('answers 422 with the issues for nothing to target, no data, or malformed targets', async () => {
    const hub = await hubWithKeys();
    const issues = async (body: unknown) => {
      const res = await push(hub, body);
      expect(res).toMatchObject({ status: 422, body: { status: 422, error: { code: 'invalid_input' } } });
      return (res.body['error'] as { issues: Array<{ path: string; message: string }> }).issues;
    };
    expect(await issues({ data: 1 })).toEqual([{ path: '', message: expect.stringContaining('nothing to target') }]);
    expect(await issues({ users: [], broadcast: false, data: 1 })).toEqual([{ path: '', message: expect.stringContaining('nothing to target') }]);
    expect(await issues({ users: ['u'] })).toEqual([{ path: 'data', message: expect.stringContaining('received undefined') }]);
    expect(await issues({ channels: 'lobby', data: 1 })).toEqual([expect.objectContaining({ path: 'channels' })]);
    expect(await issues({ clients: [''], data: 1 })).toEqual([expect.objectContaining({ path: 'clients.0' })]);
    expect(await issues({ user_id: 'n::1', message: 'no event' })).toEqual([expect.objectContaining({ path: 'event' })]);
    expect(await issues([1, 2])).toEqual([expect.objectContaining({ path: '' })]);
  });

  it('keeps the REST body rules: 413 over maxBodyBytes, 415 not JSON, 400 malformed JSON', async () => {
    const hub = await hubWithKeys();
    const big = await push(hub, { broadcast: true, data: 'x'.repeat(4096) });
    expect(big).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect((await post(hub, '/api/notify', undefined, { raw: '{"broadcast":true,"data":1}', headers: { 'X-API-Key': KEY, 'Content-Type': 'text/plain' } })).status).toBe(415);
    expect((await post(hub, '/api/notify', undefined, { raw: '{"broadcast":', headers: { 'X-API-Key': KEY, 'Content-Type': 'application/json' } })).body).toMatchObject({ error: { code: 'invalid_json' } });
  });
});

describe('POST /api/notify/batch', () => {
  it('applies every notification in order and reports each one', async () => {
    const hub = await startHub({ apiKeys: KEY });
    const p = await population(hub);
    const target = p.other.info.client_id;
    const res = await push(
      hub,
      {
        notifications: [
          { clients: [target], data: { seq: 1 } },
          { user_id: '*', event: 'seq', message: 2 },
          { clients: [target], data: { seq: 3 } },
          { users: [p.alice.rootId], channels: ['elsewhere'], data: { seq: 4 } },
        ],
      },
      KEY,
      '/api/notify/batch',
    );
    expect(res).toEqual({
      status: 202,
      headers: expect.anything(),
      body: { status: 202, results: [{ delivered: { clients: 1 } }, { delivered: { broadcast: 5 } }, { delivered: { clients: 1 } }, { delivered: { users: 2, channels: 1 } }] },
    });
    expect([await p.other.next(), await p.other.next(), await p.other.next(), await p.other.next()]).toEqual([{ seq: 1 }, { type: 'seq', data: 2 }, { seq: 3 }, { seq: 4 }]);
    expect(await p.alice1.next('seq')).toEqual({ type: 'seq', data: 2 });
    expect(await p.alice1.next()).toEqual({ seq: 4 });
  });

  it('sends nothing when any notification is invalid, and names each bad one by index', async () => {
    const hub = await hubWithKeys();
    const watcher = await connect(hub);
    const res = await push(hub, { notifications: [{ broadcast: true, data: 'first' }, { data: 1 }, { user_id: '*' }] }, KEY, '/api/notify/batch');
    expect(res.status).toBe(422);
    expect((res.body['error'] as { issues: Array<{ path: string }> }).issues.map((i) => i.path)).toEqual(['notifications.1', 'notifications.2.event']);
    await expectNothing(watcher);
    expect((await push(hub, { notifications: [] }, KEY, '/api/notify/batch')).status).toBe(422);
    expect((await push(hub, { broadcast: true, data: 1 }, KEY, '/api/notify/batch')).status).toBe(422);
  });
});

describe('ctx.broadcast', () => {
  it('reaches every connected client from a walker; an unencodable payload fails the call and sends nothing', async () => {
    const hub = await hubWithKeys();
    const p = await population(hub);
    expect((await post(hub, '/walker/announce', { text: 'deploy' })).status).toBe(200);
    for (const c of p.all) expect(await c.next('announce')).toEqual({ type: 'announce', data: { text: 'deploy' } });
    expect(await post(hub, '/walker/announce_bigint', {})).toMatchObject({ status: 500, body: { error: { code: 'internal' } } });
    await expectNothing(...p.all);
  });
});
