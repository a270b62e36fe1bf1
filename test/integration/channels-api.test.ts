/** The server API for channels on one node: GET /api/presence/:channel and POST /api/subscriptions. */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseChannelsFile } from '../../src/channels/load.js';
import { closeClients, connect, post, signToken, startHub, stopAll, type Frame } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

const KEY = 'a-server-key-of-enough-length';
const channels = parseChannelsFile({ namespaces: { chat: { presence: true, join_leave: true }, feed: { subscribe: 'none', presence: true } } }, new Map());

async function get(url: string, key: string | null) {
  const res = await fetch(url, key === null ? {} : { headers: { 'X-API-Key': key } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('server API for channels', () => {
  it('GET /api/presence/:channel answers with the members and counts; 401 without the key, 404 with the API off', async () => {
    const hub = await startHub({ apiKeys: KEY }, { channels });
    const alice = await signToken();
    const a = await connect(hub, { token: alice.token });
    await a.request({ type: 'subscribe', channel_ids: ['chat:r1'] });
    const answer = await get(`${hub.url}/api/presence/${encodeURIComponent('chat:r1')}`, KEY);
    expect(answer).toEqual({ status: 200, body: { status: 200, channel_id: 'chat:r1', clients: [{ client_id: a.info.client_id, root_id: alice.rootId }], num_clients: 1, num_users: 1 } });
    expect((await get(`${hub.url}/api/presence/chat:r1`, null)).status).toBe(401);
    const off = await startHub({}, { channels });
    expect((await get(`${off.url}/api/presence/chat:r1`, KEY)).status).toBe(404);
  });

  it('POST /api/subscriptions joins and leaves a user\'s connections whatever the namespace allows clients, and tells them', async () => {
    const hub = await startHub({ apiKeys: KEY }, { channels });
    const bob = await signToken();
    const b1 = await connect(hub, { token: bob.token });
    const b2 = await connect(hub, { token: bob.token });
    const other = await connect(hub);
    const res = await post(hub, '/api/subscriptions', { users: [bob.rootId], subscribe: ['feed:alerts'] }, { headers: { 'X-API-Key': KEY } });
    expect(res).toMatchObject({ status: 202, body: { status: 202, connections: 2 } });
    for (const b of [b1, b2]) expect(await b.next('subscribed')).toMatchObject({ type: 'subscribed', channel_ids: expect.arrayContaining(['feed:alerts']) });
    await post(hub, '/api/notify', { channels: ['feed:alerts'], data: { alert: 1 } }, { headers: { 'X-API-Key': KEY } });
    for (const b of [b1, b2]) expect(await b.next((f: Frame) => f['alert'] === 1)).toEqual({ alert: 1 });
    await other.sync();
    expect(other.pending()).toEqual([]);

    const byClient = await post(hub, '/api/subscriptions', { clients: [b1.info.client_id], unsubscribe: ['feed:alerts'] }, { headers: { 'X-API-Key': KEY } });
    expect(byClient.body).toMatchObject({ connections: 1 });
    expect(await b1.next('unsubscribed')).toMatchObject({ channel_ids: expect.not.arrayContaining(['feed:alerts']) });
    const presence = await get(`${hub.url}/api/presence/feed:alerts`, KEY);
    expect((presence.body['clients'] as Array<{ client_id: string }>).map((c) => c.client_id)).toEqual([b2.info.client_id]);
  });

  it('refuses bad bodies with every problem listed', async () => {
    const hub = await startHub({ apiKeys: KEY }, { channels });
    const res = await post(hub, '/api/subscriptions', { subscribe: [] }, { headers: { 'X-API-Key': KEY } });
    expect(res.status).toBe(422);
    const text = JSON.stringify(res.body);
    expect(text).toContain('no connections named');
    expect(text).toContain('nothing to do');
  });
});
