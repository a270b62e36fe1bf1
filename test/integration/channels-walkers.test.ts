/**
 * Walkers and channels: a namespace's subscribe walker (allow, deny by `false`, deny by a throw, a
 * timeout; synchronous and asynchronous; at a `subscribe` frame and at `?channel_id=`), and the
 * walker API `ctx.subscribe`, `ctx.unsubscribe`, `ctx.presence`, `ctx.presenceStats`.
 */
import { z } from 'zod';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseChannelsFile } from '../../src/channels/load.js';
import { closeCodes } from '../../src/errors.js';
import { defineWalker, walkerError } from '../../src/walkers/define.js';
import { closeClients, connect, post, refusedUpgrade, signToken, startHub, stopAll, walkersFrom, type TestClient } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

/** Rooms whose name says what the walker does: `ok-*` allowed, `no-*` false, `bad-*` throws, `slow-*` never answers; `later-*` answers after a turn. */
const decide = (room: string): unknown => {
  if (room.includes('no-')) return false;
  if (room.includes('bad-')) throw walkerError(403, 'not on the guest list');
  if (room.includes('slow-')) return new Promise(() => undefined);
  return true;
};
const walkers = walkersFrom({
  authorize_room: defineWalker({
    input: z.object({ channel_id: z.string() }),
    auth: false,
    methods: ['websocket'],
    run: (_ctx, { channel_id }) => (channel_id.includes('later-') ? new Promise((resolve, reject) => setImmediate(() => {
      try {
        resolve(decide(channel_id));
      } catch (err) {
        reject(err);
      }
    })) : decide(channel_id)),
  }),
  join_me: defineWalker({
    input: z.object({ channels: z.array(z.string()) }),
    auth: false,
    methods: ['websocket', 'post'],
    run: async (ctx, { channels }) => ctx.subscribe(channels),
  }),
  leave_me: defineWalker({ input: z.object({ channels: z.array(z.string()) }), auth: false, methods: ['websocket'], run: (ctx, { channels }) => ctx.unsubscribe(channels) }),
  who: defineWalker({
    input: z.object({ channel: z.string() }),
    auth: false,
    methods: ['websocket', 'post'],
    run: async (ctx, { channel }) => ({ presence: await ctx.presence(channel), stats: await ctx.presenceStats(channel) }),
  }),
});

const channels = {
  namespaces: {
    room: { subscribe_walker: 'authorize_room', presence: true, join_leave: true },
    feed: { subscribe: 'none' as const, presence: true },
  },
};

async function hub() {
  return startHub({ walkerTimeoutMs: 300 }, { walkers, channels: parseChannelsFile(channels, walkers) });
}

const subscribe = (c: TestClient, ids: string[]) => c.request({ type: 'subscribe', channel_ids: ids });
const call = (c: TestClient, walker: string, context: Record<string, unknown>) => c.request({ type: 'walker', walker, response: true, context });

describe('a namespace\'s subscribe walker', () => {
  it('allows, denies by returning false, by throwing and by timing out; synchronous or not; refusals are whole', async () => {
    const h = await hub();
    const c = await connect(h);
    expect(await subscribe(c, ['room:ok-1'])).toMatchObject({ type: 'subscribed' });
    expect(await subscribe(c, ['room:later-ok-2'])).toMatchObject({ type: 'subscribed' });
    expect(await subscribe(c, ['room:no-1', 'lobby'])).toMatchObject({ type: 'error', error: { code: 'forbidden', message: 'Channel "room:no-1" was refused by authorize_room' } });
    expect(await subscribe(c, ['room:later-no-2'])).toMatchObject({ type: 'error', error: { code: 'forbidden' } });
    expect(await subscribe(c, ['room:bad-1'])).toMatchObject({ type: 'error', error: { code: 'forbidden', message: expect.stringContaining('not on the guest list') } });
    expect(await subscribe(c, ['room:later-bad-2'])).toMatchObject({ type: 'error', error: { code: 'forbidden', message: expect.stringContaining('not on the guest list') } });
    expect(await subscribe(c, ['room:slow-1'])).toMatchObject({ type: 'error', error: { code: 'forbidden', message: expect.stringContaining('did not answer in time') } });
    const now = await c.request({ type: 'unsubscribe', channel_ids: ['x'] });
    expect(now['channel_ids']).toEqual(expect.arrayContaining(['room:ok-1', 'room:later-ok-2']));
    expect(now['channel_ids']).not.toContain('lobby');
  });

  it('while it runs, later frames wait: a ping behind the subscribe is answered after it', async () => {
    const h = await hub();
    const c = await connect(h);
    c.send({ type: 'subscribe', channel_ids: ['room:later-ok-3'], uid: 's' });
    c.send({ type: 'ping', uid: 'p' });
    expect(await c.next((f) => f.uid !== undefined)).toMatchObject({ type: 'subscribed', uid: 's' });
    expect(await c.next((f) => f.uid !== undefined)).toMatchObject({ type: 'pong', uid: 'p' });
  });

  it('decides ?channel_id= too: 403 at the upgrade when it answers at once, close 4403 when it refuses later', async () => {
    const h = await hub();
    expect(await refusedUpgrade(h, { query: '?channel_id=room:no-4' })).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const ok = await connect(h, { query: '?channel_id=room:later-ok-4' });
    expect(ok.info.channel_id).toBe('room:later-ok-4');
    const watcher = await connect(h);
    await subscribe(watcher, ['room:later-ok-4']);
    const presence = await watcher.request({ type: 'presence', channel_id: 'room:later-ok-4' });
    expect((presence['clients'] as unknown[]).length).toBe(2);

    // Refused after the upgrade: never a member, closed with 4403 and the reason.
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(`ws://127.0.0.1:${h.port}/websocket?channel_id=room:later-no-4`);
    const frames: string[] = [];
    ws.on('message', (m) => frames.push(m.toString()));
    const [code, reason] = await new Promise<[number, string]>((resolve) => ws.on('close', (code, reason) => resolve([code, reason.toString()])));
    expect(code).toBe(closeCodes.forbiddenChannel);
    expect(reason).toContain('room:later-no-4');
    expect(frames).toEqual([]);
  });
});

describe('walkers join, leave and read presence', () => {
  it('ctx.subscribe joins the calling connection whatever the namespace allows clients, ctx.unsubscribe leaves', async () => {
    const h = await hub();
    const c = await connect(h);
    expect(await subscribe(c, ['feed:news'])).toMatchObject({ type: 'error', error: { code: 'forbidden' } });
    expect(await call(c, 'join_me', { channels: ['feed:news'] })).toMatchObject({ status: 200, reports: [expect.arrayContaining(['feed:news'])] });
    const { token } = await signToken();
    const sender = await connect(h, { token });
    await sender.request({ type: 'channel', channel_ids: ['feed:news'], data: { headline: 1 } });
    expect(await c.next((f) => f['headline'] === 1)).toEqual({ headline: 1 });
    expect(await call(c, 'who', { channel: 'feed:news' })).toMatchObject({ reports: [{ presence: [{ client_id: c.info.client_id }], stats: { num_clients: 1, num_users: 1 } }] });
    expect(await call(c, 'leave_me', { channels: ['feed:news'] })).toMatchObject({ status: 200 });
    expect(await call(c, 'who', { channel: 'feed:news' })).toMatchObject({ reports: [{ presence: [], stats: { num_clients: 0 } }] });
  });

  it('over REST ctx.subscribe is an error (no connection), ctx.presence works', async () => {
    const h = await hub();
    const c = await connect(h);
    await subscribe(c, ['room:ok-5']);
    const rest = await post(h, '/walker/join_me', { channels: ['room:ok-5'] });
    expect(rest.status).toBe(405);
    expect(JSON.stringify(rest.body)).toContain('needs a WebSocket caller');
    const who = await post(h, '/walker/who', { channel: 'room:ok-5' });
    expect(who.status).toBe(200);
    expect(JSON.stringify(who.body)).toContain(c.info.client_id);
  });
});
