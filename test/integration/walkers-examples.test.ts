/**
 * The example walkers in walkers/*.ts, over WebSocket and over REST (POST /walker/:name).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../../src/node.js';
import { closeClients, connect, post, signToken, startHub, stopAll, type Frame, type TestClient } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

let hub: RunningHub;
beforeAll(async () => {
  hub = await startHub();
});

let seq = 0;
const fresh = (prefix: string) => `${prefix}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

/** Sends a walker frame with response:true and a uid; resolves with the reply, uid stripped. */
async function callWs(c: TestClient, walker: string, context: Record<string, unknown>): Promise<Frame> {
  const reply = await c.request({ type: 'walker', walker, context, response: true });
  const { uid, ...rest } = reply;
  expect(typeof uid).toBe('string');
  return rest;
}

/** Barrier on every client, then asserts none of them holds an unconsumed frame of `type`. */
async function expectNone(type: string, ...clients: TestClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.sync()));
  for (const c of clients) expect(c.pending(type)).toEqual([]);
}

async function authed(query = ''): Promise<{ client: TestClient; rootId: string; token: string }> {
  const { token, rootId } = await signToken();
  return { client: await connect(hub, { token, query }), rootId, token };
}

const progressFrames = [0, 20, 40, 60, 80, 100].map((p) => ({
  type: 'progress',
  data: { any_field: 'for_progress', progress: `${p}%`, status: p === 0 ? 'started' : p === 100 ? 'completed' : 'inprogress' },
}));
const progressReports = [1, 2, 3, 4, 5, 6].map((i) => `do something ${i}`);

async function expectProgress(c: TestClient): Promise<void> {
  for (const expected of progressFrames) expect(await c.next('progress')).toEqual(expected);
}

describe('send_chat_to_user / send_chat_to_group / send_chat_to_client', () => {
  for (const via of ['websocket', 'post'] as const) {
    const call = async (sender: { client: TestClient; token: string }, walker: string, context: Record<string, unknown>) => {
      if (via === 'websocket') {
        expect(await callWs(sender.client, walker, context)).toEqual({ type: 'walker', walker, status: 200, reports: [] });
      } else {
        const res = await post(hub, `/walker/${walker}`, context, { token: sender.token });
        expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { status: 200, reports: [] } });
      }
    };

    it(`send_chat_to_user reaches both connections of the target user and nobody else (${via})`, async () => {
      const sender = await authed();
      const { token: targetToken, rootId: targetRoot } = await signToken();
      const t1 = await connect(hub, { token: targetToken });
      const t2 = await connect(hub, { token: targetToken });
      const other = (await authed()).client;
      const pub = await connect(hub);
      await call(sender, 'send_chat_to_user', { root_id: targetRoot, message: `hello ${via}` });
      expect(await t1.next('chat')).toEqual({ type: 'chat', data: { message: `hello ${via}` } });
      expect(await t2.next('chat')).toEqual({ type: 'chat', data: { message: `hello ${via}` } });
      await expectNone('chat', t1, t2, other, pub, sender.client);
    });

    it(`send_chat_to_group reaches every channel member and nobody else (${via})`, async () => {
      const room = fresh('room');
      const sender = await authed();
      const m1 = await connect(hub, { query: `?channel_id=${room}` });
      const m2 = (await authed(`?channel_id=${room}`)).client;
      const m3 = await connect(hub);
      expect(await m3.request({ type: 'subscribe', channel_ids: [room] })).toMatchObject({ type: 'subscribed' });
      const outsider = await connect(hub, { query: `?channel_id=${fresh('elsewhere')}` });
      await call(sender, 'send_chat_to_group', { channel_id: room, message: 'group hi' });
      for (const m of [m1, m2, m3]) expect(await m.next('chat')).toEqual({ type: 'chat', data: { message: 'group hi' } });
      await expectNone('chat', m1, m2, m3, outsider, sender.client);
    });

    it(`send_chat_to_client reaches exactly that client (${via})`, async () => {
      const sender = await authed();
      const { token } = await signToken();
      const target = await connect(hub, { token });
      const sameUser = await connect(hub, { token });
      const pub = await connect(hub);
      await call(sender, 'send_chat_to_client', { client_id: target.info.client_id, message: 'just you' });
      expect(await target.next('chat')).toEqual({ type: 'chat', data: { message: 'just you' } });
      await expectNone('chat', target, sameUser, pub, sender.client);
    });

    it(`message defaults to 'string' when omitted (${via})`, async () => {
      const sender = await authed();
      const target = await connect(hub);
      await call(sender, 'send_chat_to_client', { client_id: target.info.client_id });
      expect(await target.next('chat')).toEqual({ type: 'chat', data: { message: 'string' } });
      await call(sender, 'send_chat_to_user', { root_id: sender.rootId });
      expect(await sender.client.next('chat')).toEqual({ type: 'chat', data: { message: 'string' } });
      await call(sender, 'send_chat_to_group', { channel_id: target.info.channel_id });
      expect(await target.next('chat')).toEqual({ type: 'chat', data: { message: 'string' } });
    });
  }
});

describe('progress walkers', () => {
  it('self_progress_notif over WS: 6 progress frames in order, then the walker reply with 6 reports', async () => {
    const { client } = await authed();
    client.send({ type: 'walker', walker: 'self_progress_notif', context: {}, response: true, uid: 'self-1' });
    const received: Frame[] = [];
    for (let i = 0; i < 7; i++) received.push(await client.next());
    expect(received).toEqual([
      ...progressFrames,
      { type: 'walker', walker: 'self_progress_notif', status: 200, reports: progressReports, uid: 'self-1' },
    ]);
  });

  it('self_progress_notif over REST: 6 reports, and no socket gets progress frames', async () => {
    const { client, token } = await authed();
    const sameUser = await connect(hub, { token });
    const pub = await connect(hub);
    const res = await post(hub, '/walker/self_progress_notif', {}, { token });
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { status: 200, reports: progressReports } });
    await expectNone('progress', client, sameUser, pub);
  });

  it('user_progress_notif delivers the 6 frames to every connection of the user (WS and REST)', async () => {
    const caller = await authed();
    const { token, rootId } = await signToken();
    const t1 = await connect(hub, { token });
    const t2 = await connect(hub, { token });
    const other = await connect(hub);
    expect(await callWs(caller.client, 'user_progress_notif', { root_id: rootId })).toEqual({
      type: 'walker', walker: 'user_progress_notif', status: 200, reports: progressReports,
    });
    await expectProgress(t1);
    await expectProgress(t2);
    const res = await post(hub, '/walker/user_progress_notif', { root_id: rootId }, { token: caller.token });
    expect(res.body).toEqual({ status: 200, reports: progressReports });
    await expectProgress(t1);
    await expectProgress(t2);
    await expectNone('progress', t1, t2, other, caller.client);
  });

  it('channel_progress_notif delivers the 6 frames to the channel members (WS and REST)', async () => {
    const room = fresh('progress-room');
    const caller = await authed();
    const m1 = await connect(hub, { query: `?channel_id=${room}` });
    const m2 = await connect(hub, { query: `?channel_id=${room}` });
    const other = await connect(hub);
    expect(await callWs(caller.client, 'channel_progress_notif', { channel_id: room })).toEqual({
      type: 'walker', walker: 'channel_progress_notif', status: 200, reports: progressReports,
    });
    await expectProgress(m1);
    await expectProgress(m2);
    const res = await post(hub, '/walker/channel_progress_notif', { channel_id: room }, { token: caller.token });
    expect(res.body).toEqual({ status: 200, reports: progressReports });
    await expectProgress(m1);
    await expectProgress(m2);
    await expectNone('progress', m1, m2, other, caller.client);
  });

  it('client_progress_notif delivers the 6 frames to exactly that client (WS and REST)', async () => {
    const caller = await authed();
    const target = await connect(hub);
    const neighbour = await connect(hub, { query: `?channel_id=${target.info.channel_id}` });
    expect(await callWs(caller.client, 'client_progress_notif', { client_id: target.info.client_id })).toEqual({
      type: 'walker', walker: 'client_progress_notif', status: 200, reports: progressReports,
    });
    await expectProgress(target);
    const res = await post(hub, '/walker/client_progress_notif', { client_id: target.info.client_id }, { token: caller.token });
    expect(res.body).toEqual({ status: 200, reports: progressReports });
    await expectProgress(target);
    await expectNone('progress', target, neighbour, caller.client);
  });
});

describe('public callers are refused by the auth walkers', () => {
  const cases: Array<[string, (c: TestClient) => Record<string, unknown>]> = [
    ['send_chat_to_user', (c) => ({ root_id: c.info.root_id })],
    ['send_chat_to_group', (c) => ({ channel_id: c.info.channel_id })],
    ['send_chat_to_client', (c) => ({ client_id: c.info.client_id })],
    ['self_progress_notif', () => ({})],
    ['user_progress_notif', (c) => ({ root_id: c.info.root_id })],
    ['channel_progress_notif', (c) => ({ channel_id: c.info.channel_id })],
    ['client_progress_notif', (c) => ({ client_id: c.info.client_id })],
  ];
  const unauthorized = { code: 'unauthorized', message: 'This walker requires an authenticated user' };

  it.each(cases)('%s → 401 unauthorized over WS and REST, nothing delivered', async (walker, context) => {
    const pub = await connect(hub);
    expect(await callWs(pub, walker, context(pub))).toEqual({ type: 'walker', walker, status: 401, error: unauthorized });
    const res = await post(hub, `/walker/${walker}`, context(pub));
    expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: { status: 401, error: unauthorized } });
    await expectNone('chat', pub);
    await expectNone('progress', pub);
  });
});
