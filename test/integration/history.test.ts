/**
 * History and recovery on one node: publication frames with offsets and an epoch, `subscribe` with
 * `since` replaying exactly what was missed (or saying it cannot), the `history` frame, walkers'
 * `ctx.history`, the push API's offsets and `GET /api/history/:channel`. Real hub, real sockets.
 */
import { z } from 'zod';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseChannelsFile } from '../../src/channels/load.js';
import type { RunningHub } from '../../src/node.js';
import { defineWalker } from '../../src/walkers/define.js';
import { closeClients, connect, post, signToken, startHub, stopAll, walkersFrom, type Frame, type TestClient } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

const KEY = 'a-server-key-of-enough-length';
const walkers = walkersFrom({
  read_history: defineWalker({
    input: z.object({ channel: z.string(), limit: z.number().optional() }),
    auth: false,
    methods: ['websocket', 'post'],
    run: (ctx, { channel, limit }) => ctx.history(channel, limit === undefined ? {} : { limit }),
  }),
});
const channels = parseChannelsFile(
  {
    namespaces: {
      chat: { history_size: 100, history_ttl: 600, max_recovery: 60 },
      small: { history_size: 5, history_ttl: 600 },
      secret: { history_size: 10, history_ttl: 600, history: 'none' },
      plain: {},
    },
  },
  walkers,
);

const start = () => startHub({ apiKeys: KEY, peerEvents: 'public', frameRate: 0 }, { walkers, channels });
const publish = (hub: RunningHub, channel: string, data: unknown) => post(hub, '/api/notify', { channels: [channel], data }, { headers: { 'X-API-Key': KEY } });

/** The next `n` publication frames of `channel`. */
async function publications(c: TestClient, channel: string, n: number): Promise<Frame[]> {
  const out: Frame[] = [];
  for (let i = 0; i < n; i++) out.push(await c.next((f) => f.type === 'publication' && f['channel_id'] === channel));
  return out;
}

describe('history and recovery on one node', () => {
  it('wraps publications with offset and epoch; the data is exactly as sent; the push API answers with the offset', async () => {
    const hub = await start();
    const c = await connect(hub);
    const joined = await c.request({ type: 'subscribe', channel_ids: ['chat:a', 'plain:a'] });
    expect(joined).toMatchObject({ type: 'subscribed', positions: { 'chat:a': { offset: 0, epoch: expect.any(String) } } });
    expect(joined['positions']).not.toHaveProperty('plain:a');
    expect(joined).not.toHaveProperty('recovered');
    const epoch = (joined['positions'] as Record<string, { epoch: string }>)['chat:a']?.epoch;
    const res = await publish(hub, 'chat:a', { text: 'hi', n: [1, 2] });
    expect(res.body).toMatchObject({ status: 202, offsets: { 'chat:a': 1 } });
    expect(await c.next('publication')).toEqual({ type: 'publication', channel_id: 'chat:a', offset: 1, epoch, data: { text: 'hi', n: [1, 2] } });
    // A channel without history keeps today's frame.
    await publish(hub, 'plain:a', { text: 'plain' });
    expect(await c.next((f) => f['text'] === 'plain')).toEqual({ text: 'plain' });
  });

  it('a subscriber that was away gets exactly the 50 it missed, in order, then live ones; twice in a row', async () => {
    const hub = await start();
    const first = await connect(hub);
    const joined = await first.request({ type: 'subscribe', channel_ids: ['chat:b'] });
    let position = (joined['positions'] as Record<string, { offset: number; epoch: string }>)['chat:b'] as { offset: number; epoch: string };
    await first.close();
    for (let round = 0; round < 2; round++) {
      for (let i = 1; i <= 50; i++) await publish(hub, 'chat:b', { round, i });
      const back = await connect(hub);
      const reply = await back.request({ type: 'subscribe', channel_ids: ['chat:b'], since: { 'chat:b': position } });
      expect(reply).toMatchObject({ recovered: { 'chat:b': true }, positions: { 'chat:b': { offset: position.offset + 50, epoch: position.epoch } } });
      const missed = await publications(back, 'chat:b', 50);
      expect(missed.map((p) => p['offset'])).toEqual(Array.from({ length: 50 }, (_, i) => position.offset + i + 1));
      expect(missed.map((p) => (p['data'] as { i: number }).i)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      await publish(hub, 'chat:b', { live: round });
      expect(await back.next('publication')).toMatchObject({ offset: position.offset + 51, data: { live: round } });
      await back.sync();
      expect(back.pending('publication')).toEqual([]);
      position = { offset: position.offset + 51, epoch: position.epoch };
      await back.close();
    }
  });

  it('says recovered: false and replays nothing when the gap left history, exceeds max_recovery, or the epoch differs', async () => {
    const hub = await start();
    const c = await connect(hub);
    const joined = await c.request({ type: 'subscribe', channel_ids: ['small:x', 'chat:x'] });
    const positions = joined['positions'] as Record<string, { offset: number; epoch: string }>;
    await c.close();
    for (let i = 1; i <= 8; i++) await publish(hub, 'small:x', { i }); // only 5 kept
    for (let i = 1; i <= 61; i++) await publish(hub, 'chat:x', { i }); // max_recovery 60
    const back = await connect(hub);
    const reply = await back.request({ type: 'subscribe', channel_ids: ['small:x', 'chat:x'], since: positions });
    expect(reply['recovered']).toEqual({ 'small:x': false, 'chat:x': false });
    const wrong = await back.request({ type: 'subscribe', channel_ids: ['chat:x'], since: { 'chat:x': { offset: 61, epoch: 'not-it' } } });
    expect(wrong['recovered']).toEqual({ 'chat:x': false });
    await back.sync();
    expect(back.pending('publication')).toEqual([]);
    // A client that had seen everything recovers with nothing to replay.
    const current = await back.request({ type: 'subscribe', channel_ids: ['chat:x'], since: { 'chat:x': { offset: 61, epoch: positions['chat:x']?.epoch } } });
    expect(current['recovered']).toEqual({ 'chat:x': true });
    await back.sync();
    expect(back.pending('publication')).toEqual([]);
  });

  it('a client that received nothing recovers from the position in its subscribed reply', async () => {
    const hub = await start();
    const c = await connect(hub);
    const joined = await c.request({ type: 'subscribe', channel_ids: ['chat:c'] });
    c.ws.terminate();
    await c.closed;
    await publish(hub, 'chat:c', { n: 1 });
    const back = await connect(hub);
    const reply = await back.request({ type: 'subscribe', channel_ids: ['chat:c'], since: joined['positions'] as Record<string, unknown> });
    expect(reply['recovered']).toEqual({ 'chat:c': true });
    expect(await back.next('publication')).toMatchObject({ offset: 1, data: { n: 1 } });
  });

  it('a publisher racing the resubscribe: every offset arrives exactly once, in order', async () => {
    const hub = await start();
    const { token } = await signToken();
    const sender = await connect(hub, { token });
    const c = await connect(hub);
    const joined = await c.request({ type: 'subscribe', channel_ids: ['chat:d'] });
    const position = (joined['positions'] as Record<string, { offset: number; epoch: string }>)['chat:d'];
    await c.close();
    // The sender keeps publishing while the subscriber comes back and recovers.
    for (let i = 1; i <= 40; i++) sender.send({ type: 'channel', channel_ids: ['chat:d'], data: { i } });
    const back = await connect(hub);
    back.send({ type: 'subscribe', channel_ids: ['chat:d'], since: { 'chat:d': position }, uid: 'r' });
    for (let i = 41; i <= 80; i++) sender.send({ type: 'channel', channel_ids: ['chat:d'], data: { i } });
    await sender.sync();
    const reply = await back.next((f) => f.uid === 'r');
    expect(reply['recovered']).toEqual({ 'chat:d': true });
    const got = await publications(back, 'chat:d', 80);
    expect(got.map((p) => p['offset'])).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    await back.sync();
    expect(back.pending('publication')).toEqual([]);
  });

  it('a restarted hub (in-memory history) has a new epoch: recovered is false', async () => {
    const one = await start();
    const c = await connect(one);
    const joined = await c.request({ type: 'subscribe', channel_ids: ['chat:e'] });
    await publish(one, 'chat:e', { n: 1 });
    await c.close();
    const two = await start();
    const back = await connect(two);
    const reply = await back.request({ type: 'subscribe', channel_ids: ['chat:e'], since: joined['positions'] as Record<string, unknown> });
    expect(reply['recovered']).toEqual({ 'chat:e': false });
    expect((reply['positions'] as Record<string, { epoch: string }>)['chat:e']?.epoch).not.toBe((joined['positions'] as Record<string, { epoch: string }>)['chat:e']?.epoch);
  });

  it('the history frame: latest, limit, since; subscribers only by default; none where history is off or closed', async () => {
    const hub = await start();
    const c = await connect(hub);
    const outsider = await connect(hub);
    const joined = await c.request({ type: 'subscribe', channel_ids: ['chat:f', 'plain:f', 'secret:f'] });
    const epoch = (joined['positions'] as Record<string, { epoch: string }>)['chat:f']?.epoch;
    for (let i = 1; i <= 7; i++) await publish(hub, 'chat:f', { i });
    expect(await c.request({ type: 'history', channel_id: 'chat:f', limit: 3 })).toMatchObject({
      type: 'history',
      channel_id: 'chat:f',
      offset: 7,
      epoch,
      publications: [
        { offset: 5, data: { i: 5 } },
        { offset: 6, data: { i: 6 } },
        { offset: 7, data: { i: 7 } },
      ],
    });
    const since = await c.request({ type: 'history', channel_id: 'chat:f', since: { offset: 5, epoch } });
    expect((since['publications'] as Array<{ offset: number }>).map((p) => p.offset)).toEqual([6, 7]);
    expect(await outsider.request({ type: 'history', channel_id: 'chat:f' })).toMatchObject({ type: 'error', error: { code: 'forbidden' } });
    expect(await c.request({ type: 'history', channel_id: 'plain:f' })).toMatchObject({ type: 'error', error: { code: 'forbidden', message: expect.stringContaining('keeps no history') } });
    expect(await c.request({ type: 'history', channel_id: 'secret:f' })).toMatchObject({ type: 'error', error: { code: 'forbidden' } });
  });

  it('walkers read history with ctx.history; backends with GET /api/history/:channel', async () => {
    const hub = await start();
    for (let i = 1; i <= 3; i++) await publish(hub, 'chat:g', { i });
    const c = await connect(hub);
    expect(await c.request({ type: 'walker', walker: 'read_history', response: true, context: { channel: 'chat:g', limit: 2 } })).toMatchObject({
      reports: [{ offset: 3, epoch: expect.any(String), publications: [{ offset: 2, data: { i: 2 } }, { offset: 3, data: { i: 3 } }] }],
    });
    expect(await c.request({ type: 'walker', walker: 'read_history', response: true, context: { channel: 'plain:g' } })).toMatchObject({ status: 403 });
    const res = await fetch(`${hub.url}/api/history/chat:g?limit=1`, { headers: { 'X-API-Key': KEY } });
    expect(await res.json()).toMatchObject({ status: 200, channel_id: 'chat:g', offset: 3, publications: [{ offset: 3, data: { i: 3 } }] });
    const epoch = ((await (await fetch(`${hub.url}/api/history/chat:g`, { headers: { 'X-API-Key': KEY } })).json()) as { epoch: string }).epoch;
    const after = await fetch(`${hub.url}/api/history/chat:g?since=1&epoch=${epoch}`, { headers: { 'X-API-Key': KEY } });
    expect(((await after.json()) as { publications: Array<{ offset: number }> }).publications.map((p) => p.offset)).toEqual([2, 3]);
    expect((await fetch(`${hub.url}/api/history/chat:g?since=1`, { headers: { 'X-API-Key': KEY } })).status).toBe(422);
  });
});
