import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeClients, connect, post, signToken, startHub, stopAll } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

describe('smoke', () => {
  it('connects, pings, runs a walker over WS and REST', async () => {
    const hub = await startHub();
    const a = await connect(hub);
    expect(a.info.root_id).toBe('n::000000000000000000000001');
    expect(await a.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    const { token, rootId } = await signToken();
    const b = await connect(hub, { token });
    expect(b.info.root_id).toBe(rootId);
    b.send({ type: 'walker', walker: 'send_chat_to_client', context: { client_id: a.info.client_id, message: 'hi' }, response: true });
    expect(await b.next('walker')).toEqual({ type: 'walker', walker: 'send_chat_to_client', status: 200, reports: [] });
    expect(await a.next('chat')).toEqual({ type: 'chat', data: { message: 'hi' } });
    const res = await post(hub, '/walker/send_chat_to_user', { root_id: rootId, message: 'rest' }, { token });
    expect(res).toMatchObject({ status: 200, body: { status: 200, reports: [] } });
    expect(await b.next('chat')).toEqual({ type: 'chat', data: { message: 'rest' } });
  });
});
