/** Presence and join/leave on one node (the registry answers): permissions, stats, frames. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeClients, connect, signToken, startHub, stopAll, tempDir, type Frame } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

const file = {
  namespaces: {
    chat: { presence: true, join_leave: true },
    lobby: { presence: 'public' },
    quiet: { presence: 'authenticated' },
    plain: {},
  },
};

async function hub() {
  const path = join(tempDir(), 'channels.json');
  writeFileSync(path, JSON.stringify(file));
  return startHub({ channelsFile: path });
}

const ids = (frame: Frame) => ((frame['clients'] as Array<{ client_id: string }>) ?? []).map((c) => c.client_id).sort();

describe('presence on one node', () => {
  it('lists members with their roots and counts users; echoes uid', async () => {
    const h = await hub();
    const alice = await signToken();
    const a1 = await connect(h, { token: alice.token });
    const a2 = await connect(h, { token: alice.token });
    const anon = await connect(h);
    for (const c of [a1, a2, anon]) await c.request({ type: 'subscribe', channel_ids: ['chat:1'] });
    const presence = await a1.request({ type: 'presence', channel_id: 'chat:1' });
    expect(presence).toMatchObject({ type: 'presence', channel_id: 'chat:1', uid: expect.any(String) });
    expect(ids(presence)).toEqual([a1.info.client_id, a2.info.client_id, anon.info.client_id].sort());
    expect((presence['clients'] as Array<{ client_id: string; root_id: string }>).find((c) => c.client_id === a2.info.client_id)?.root_id).toBe(alice.rootId);
    expect(await a1.request({ type: 'presence_stats', channel_id: 'chat:1' })).toMatchObject({ num_clients: 3, num_users: 2 });
  });

  it('who may ask: subscribers by default, public, authenticated, and none where presence is off', async () => {
    const h = await hub();
    const anon = await connect(h);
    const { token } = await signToken();
    const user = await connect(h, { token });
    expect(await anon.request({ type: 'presence', channel_id: 'chat:1' })).toMatchObject({ type: 'error', error: { code: 'forbidden', message: expect.stringContaining('members only') } });
    expect(await anon.request({ type: 'presence', channel_id: 'lobby:1' })).toMatchObject({ type: 'presence', clients: [] });
    expect(await anon.request({ type: 'presence_stats', channel_id: 'quiet:1' })).toMatchObject({ type: 'error', error: { code: 'forbidden' } });
    expect(await user.request({ type: 'presence_stats', channel_id: 'quiet:1' })).toMatchObject({ type: 'presence_stats', num_clients: 0, num_users: 0 });
    expect(await user.request({ type: 'presence', channel_id: 'plain:1' })).toMatchObject({ type: 'error', error: { code: 'forbidden', message: expect.stringContaining('has no presence') } });
    expect(await user.request({ type: 'presence', channel_id: 'nonamespace' })).toMatchObject({ type: 'error', error: { code: 'forbidden' } });
  });

  it('join and leave frames: subscribe, unsubscribe, a closed and a killed socket, ?channel_id= at connect', async () => {
    const h = await hub();
    const watcher = await connect(h);
    await watcher.request({ type: 'subscribe', channel_ids: ['chat:2'] });
    expect(await watcher.next('join')).toMatchObject({ client: { client_id: watcher.info.client_id } });

    const b = await connect(h);
    const subscribed = b.request({ type: 'subscribe', channel_ids: ['chat:2'] });
    expect(await subscribed).toMatchObject({ type: 'subscribed' });
    // Its own join comes after its `subscribed`.
    expect(await b.next('join')).toMatchObject({ type: 'join', channel_id: 'chat:2', client: { client_id: b.info.client_id } });
    expect(await watcher.next('join')).toMatchObject({ client: { client_id: b.info.client_id } });
    await b.request({ type: 'unsubscribe', channel_ids: ['chat:2'] });
    expect(await watcher.next('leave')).toMatchObject({ type: 'leave', channel_id: 'chat:2', client: { client_id: b.info.client_id } });

    const c = await connect(h, { query: '?channel_id=chat:2' });
    expect(await watcher.next('join')).toMatchObject({ client: { client_id: c.info.client_id } });
    await c.close();
    expect(await watcher.next('leave')).toMatchObject({ client: { client_id: c.info.client_id } });

    const d = await connect(h, { query: '?channel_id=chat:2' });
    expect(await watcher.next('join')).toMatchObject({ client: { client_id: d.info.client_id } });
    d.ws.terminate();
    expect(await watcher.next('leave')).toMatchObject({ client: { client_id: d.info.client_id } });
    expect(ids(await watcher.request({ type: 'presence', channel_id: 'chat:2' }))).toEqual([watcher.info.client_id]);
  });

  it('presence follows change_user: the new root is shown', async () => {
    const h = await hub();
    const c = await connect(h);
    await c.request({ type: 'subscribe', channel_ids: ['chat:3'] });
    const bob = await signToken();
    await c.request({ type: 'change_user', token: `Bearer ${bob.token}` });
    expect((await c.request({ type: 'presence', channel_id: 'chat:3' }))['clients']).toEqual([{ client_id: c.info.client_id, root_id: bob.rootId }]);
  });
});
