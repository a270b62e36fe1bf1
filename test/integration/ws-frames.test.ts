/** Every WebSocket frame type over real sockets, incl. peerEvents policy, change_user ordering, registry cleanup. */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunningHub } from '../../src/node.js';
import { closeClients, connect, signToken, startHub, stopAll, type Frame, type TestClient } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

const PUBLIC_ROOT = 'n::000000000000000000000001';

/** Connects a client authenticated as a fresh user. */
async function authed(hub: RunningHub, query = ''): Promise<{ client: TestClient; rootId: string; token: string }> {
  const { token, rootId } = await signToken();
  const client = await connect(hub, { token, query });
  return { client, rootId, token };
}

/** Sends a frame with the given uid and returns the reply that echoes it. */
async function send(client: TestClient, frame: Record<string, unknown>, uid: string): Promise<Frame> {
  client.send({ ...frame, uid });
  return client.next((f) => f.uid === uid);
}

/** Asserts that nothing (more) reached the client: the ping barrier, then an empty queue. */
async function expectNothing(...clients: TestClient[]): Promise<void> {
  for (const c of clients) {
    await c.sync();
    expect(c.pending()).toEqual([]);
  }
}

const sorted = (ids: unknown): string[] => [...(ids as string[])].sort();

describe('connection frame', () => {
  it('is sent on connect with the public root and the channel_id from the query', async () => {
    const hub = await startHub();
    const a = await connect(hub, { query: '?channel_id=lobby' });
    expect(a.info).toEqual({ client_id: expect.stringMatching(/.+/), root_id: PUBLIC_ROOT, channel_id: 'lobby' });
    await expectNothing(a);
    const { token, rootId } = await signToken();
    expect((await connect(hub, { token, query: '?channel_id=lobby' })).info).toMatchObject({ root_id: rootId, channel_id: 'lobby' });
  });

  it('gets a random channel_id and a distinct client_id without ?channel_id=', async () => {
    const hub = await startHub();
    const a = await connect(hub);
    const b = await connect(hub);
    expect(a.info).toEqual({ client_id: expect.stringMatching(/.+/), root_id: PUBLIC_ROOT, channel_id: expect.stringMatching(/.+/) });
    expect(a.info.channel_id).not.toBe(b.info.channel_id);
    expect(a.info.client_id).not.toBe(b.info.client_id);
  });

  it('is re-sent with the uid on a `connection` frame', async () => {
    const hub = await startHub();
    const a = await connect(hub, { query: '?channel_id=room' });
    expect(await send(a, { type: 'connection' }, 'c1')).toEqual({ type: 'connection', data: a.info, uid: 'c1' });
    a.send({ type: 'connection' });
    expect(await a.next()).toEqual({ type: 'connection', data: a.info });
  });
});

describe('ping', () => {
  it('answers pong, echoing the uid when given', async () => {
    const hub = await startHub();
    const a = await connect(hub);
    expect(await send(a, { type: 'ping' }, 'p-1')).toEqual({ type: 'pong', uid: 'p-1' });
    a.send({ type: 'ping' });
    expect(await a.next()).toEqual({ type: 'pong' });
    expect(a.pending()).toEqual([]);
  });
});

describe('peer delivery', () => {
  const payloads: Array<[string, unknown]> = [
    ['a nested object', { type: 'chat', data: { message: 'hi', meta: { n: 1, ok: true, list: [1, 'two', { three: 3 }] } } }],
    ['an array', [1, 'a', { b: [null, false] }]],
    ['a string', 'just a string with unicode: héllo ✓ 🎉'],
  ];

  it.each(payloads)('client frame delivers %s exactly, once, to the target only', async (_name, data) => {
    const hub = await startHub();
    const { client: sender } = await authed(hub);
    const target = await connect(hub);
    const bystander = await connect(hub);
    expect(await send(sender, { type: 'client', client_ids: [target.info.client_id], data }, 'u1')).toEqual({ type: 'ack', uid: 'u1' });
    expect(await target.next()).toEqual(data);
    await expectNothing(target, bystander, sender);
  });

  it.each(payloads)('user frame delivers %s to every connection of the user', async (_name, data) => {
    const hub = await startHub();
    const { client: sender } = await authed(hub);
    const { token, rootId } = await signToken();
    const first = await connect(hub, { token });
    const second = await connect(hub, { token });
    const other = await authed(hub);
    expect(await send(sender, { type: 'user', root_ids: [rootId], data }, 'u2')).toEqual({ type: 'ack', uid: 'u2' });
    expect(await first.next()).toEqual(data);
    expect(await second.next()).toEqual(data);
    await expectNothing(first, second, other.client, sender);
  });

  it.each(payloads)('channel frame delivers %s to every member, the sender included', async (_name, data) => {
    const hub = await startHub();
    const { client: sender } = await authed(hub, '?channel_id=room');
    const m1 = await connect(hub, { query: '?channel_id=room' });
    const m2 = await connect(hub, { query: '?channel_id=room' });
    const outsider = await connect(hub, { query: '?channel_id=elsewhere' });
    sender.send({ type: 'channel', channel_ids: ['room'], data, uid: 'u3' });
    expect(await sender.next((f) => f.uid === 'u3')).toEqual({ type: 'ack', uid: 'u3' });
    expect(await sender.next()).toEqual(data);
    expect(await m1.next()).toEqual(data);
    expect(await m2.next()).toEqual(data);
    await expectNothing(sender, m1, m2, outsider);
  });

  it('peer frames without a uid are delivered with no reply to the sender', async () => {
    const hub = await startHub();
    const { client: sender } = await authed(hub);
    const target = await connect(hub);
    sender.send({ type: 'client', client_ids: [target.info.client_id], data: { n: 1 } });
    expect(await target.next()).toEqual({ n: 1 });
    await expectNothing(sender);
  });

  it('a connection in channels A and B gets a frame addressed to [A, B] exactly once', async () => {
    const hub = await startHub();
    const { client: sender } = await authed(hub, '?channel_id=A');
    expect(await send(sender, { type: 'subscribe', channel_ids: ['B'] }, 's')).toMatchObject({ type: 'subscribed' });
    const both = await connect(hub, { query: '?channel_id=A' });
    expect(sorted((await send(both, { type: 'subscribe', channel_ids: ['B'] }, 's')).channel_ids)).toEqual(['A', 'B']);
    const onlyB = await connect(hub, { query: '?channel_id=B' });
    const neither = await connect(hub, { query: '?channel_id=C' });
    expect(await send(sender, { type: 'channel', channel_ids: ['A', 'B'], data: { once: true } }, 'm')).toEqual({ type: 'ack', uid: 'm' });
    expect(await both.next()).toEqual({ once: true });
    expect(await onlyB.next()).toEqual({ once: true });
    expect(await sender.next()).toEqual({ once: true });
    expect(await send(sender, { type: 'channel', channel_ids: ['A', 'A'], data: { dup: 1 } }, 'd')).toEqual({ type: 'ack', uid: 'd' });
    expect(await both.next()).toEqual({ dup: 1 });
    expect(await sender.next()).toEqual({ dup: 1 });
    await expectNothing(both, onlyB, neither, sender);
  });

  it('frames from one sender reach a receiver in send order across client, channel and user targets', async () => {
    const hub = await startHub();
    const { client: sender } = await authed(hub);
    const { token, rootId } = await signToken();
    const r = await connect(hub, { token, query: '?channel_id=A' });
    await send(r, { type: 'subscribe', channel_ids: ['B'] }, 's');
    const id = r.info.client_id;
    const frames: Array<Record<string, unknown>> = [
      { type: 'channel', channel_ids: ['A'], data: { seq: 0 } },
      { type: 'client', client_ids: [id], data: { seq: 1 } },
      { type: 'channel', channel_ids: ['A', 'B'], data: { seq: 2 } },
      { type: 'user', root_ids: [rootId], data: { seq: 3 } },
      { type: 'channel', channel_ids: ['B'], data: { seq: 4 } },
      { type: 'client', client_ids: [id], data: { seq: 5 } },
    ];
    for (const f of frames) sender.send(f);
    expect(await send(sender, { type: 'ping' }, 'done')).toEqual({ type: 'pong', uid: 'done' });
    const got: unknown[] = [];
    for (let i = 0; i < frames.length; i++) got.push(await r.next());
    expect(got).toEqual(frames.map((f) => f['data']));
  });
});

describe('subscribe / unsubscribe', () => {
  it('replies with every current channel and changes what the socket receives', async () => {
    const hub = await startHub();
    const { client: sender } = await authed(hub);
    const a = await connect(hub, { query: '?channel_id=home' });

    const sub = await send(a, { type: 'subscribe', channel_ids: ['x', 'y'] }, 'sub1');
    expect({ ...sub, channel_ids: sorted(sub.channel_ids) }).toEqual({ type: 'subscribed', channel_ids: ['home', 'x', 'y'], uid: 'sub1' });
    expect(sorted((await send(a, { type: 'subscribe', channel_ids: ['x'] }, 'sub2')).channel_ids)).toEqual(['home', 'x', 'y']);

    expect(await send(sender, { type: 'channel', channel_ids: ['x'], data: { to: 'x' } }, 'm1')).toEqual({ type: 'ack', uid: 'm1' });
    expect(await a.next()).toEqual({ to: 'x' });

    const unsub = await send(a, { type: 'unsubscribe', channel_ids: ['x'] }, 'un1');
    expect({ ...unsub, channel_ids: sorted(unsub.channel_ids) }).toEqual({ type: 'unsubscribed', channel_ids: ['home', 'y'], uid: 'un1' });

    expect(await send(sender, { type: 'channel', channel_ids: ['x'], data: { to: 'x', again: true } }, 'm2')).toEqual({ type: 'ack', uid: 'm2' });
    await expectNothing(a);
    expect(await send(sender, { type: 'channel', channel_ids: ['y'], data: { to: 'y' } }, 'm3')).toEqual({ type: 'ack', uid: 'm3' });
    expect(await a.next()).toEqual({ to: 'y' });

    const home = await send(a, { type: 'unsubscribe', channel_ids: ['home', 'never-joined'] }, 'un2');
    expect(home).toEqual({ type: 'unsubscribed', channel_ids: ['y'], uid: 'un2' });
    expect(await send(sender, { type: 'channel', channel_ids: ['home'], data: { to: 'home' } }, 'm4')).toEqual({ type: 'ack', uid: 'm4' });
    await expectNothing(a);
  });
});

describe('peerEvents policy', () => {
  const kinds = ['client', 'channel', 'user'] as const;
  const frameFor = (kind: (typeof kinds)[number], target: TestClient, data: unknown): Record<string, unknown> =>
    kind === 'client'
      ? { type: 'client', client_ids: [target.info.client_id], data }
      : kind === 'channel'
        ? { type: 'channel', channel_ids: [target.info.channel_id], data }
        : { type: 'user', root_ids: [target.info.root_id], data };

  it.each(kinds)("'authenticated' (default): a public %s frame is forbidden and not delivered", async (kind) => {
    const hub = await startHub();
    const sender = await connect(hub);
    const { client: target } = await authed(hub);
    expect(await send(sender, frameFor(kind, target, { x: 1 }), 'f1')).toEqual({
      type: 'error',
      error: { code: 'forbidden', message: expect.any(String) },
      uid: 'f1',
    });
    await expectNothing(target, sender);
  });

  it.each(kinds)("'authenticated' (default): an authenticated %s frame is delivered", async (kind) => {
    const hub = await startHub({ peerEvents: 'authenticated' });
    const { client: sender } = await authed(hub);
    const { client: target } = await authed(hub);
    expect(await send(sender, frameFor(kind, target, { x: 2 }), 'f2')).toEqual({ type: 'ack', uid: 'f2' });
    expect(await target.next()).toEqual({ x: 2 });
  });

  it.each(kinds)("'public': a public %s frame is delivered", async (kind) => {
    const hub = await startHub({ peerEvents: 'public' });
    const sender = await connect(hub);
    const { client: target } = await authed(hub);
    expect(await send(sender, frameFor(kind, target, { x: 3 }), 'f3')).toEqual({ type: 'ack', uid: 'f3' });
    expect(await target.next()).toEqual({ x: 3 });
  });

  it.each(kinds)("'off': even an authenticated %s frame is forbidden", async (kind) => {
    const hub = await startHub({ peerEvents: 'off' });
    const { client: sender } = await authed(hub);
    const pub = await connect(hub);
    const { client: target } = await authed(hub);
    for (const [who, uid] of [[sender, 'f4'], [pub, 'f5']] as const) {
      expect(await send(who, frameFor(kind, target, { x: 4 }), uid)).toEqual({
        type: 'error',
        error: { code: 'forbidden', message: expect.any(String) },
        uid,
      });
    }
    await expectNothing(target, sender, pub);
  });
});

describe('change_user ordering', () => {
  it('a peer frame sent right after change_user is processed as the new user', async () => {
    const hub = await startHub();
    const p = await connect(hub);
    const { client: target, rootId: targetRoot } = await authed(hub);
    const { token, rootId } = await signToken();
    // Same tick: the user frame must wait for change_user to finish.
    p.send({ type: 'change_user', token, uid: 'cu' });
    p.send({ type: 'user', root_ids: [targetRoot], data: { from: 'p' }, uid: 'pu' });
    expect(await p.next()).toEqual({ type: 'connection', data: { ...p.info, root_id: rootId }, uid: 'cu' });
    expect(await p.next()).toEqual({ type: 'ack', uid: 'pu' });
    expect(await target.next()).toEqual({ from: 'p' });

    // And back to public: the next peer frame is forbidden again.
    p.send({ type: 'change_user', uid: 'cu2' });
    p.send({ type: 'user', root_ids: [targetRoot], data: { from: 'p2' }, uid: 'pu2' });
    expect(await p.next()).toEqual({ type: 'connection', data: { ...p.info, root_id: PUBLIC_ROOT }, uid: 'cu2' });
    expect(await p.next()).toMatchObject({ type: 'error', error: { code: 'forbidden' }, uid: 'pu2' });
    await expectNothing(target, p);
  });
});

describe('registries', () => {
  it('track clients, channels and users and are empty after every client closed', async () => {
    const hub = await startHub();
    const counts = () => hub.hub.counts();
    expect(counts()).toEqual({ clients: 0, channels: 0, users: 0 });

    const a = await connect(hub, { query: '?channel_id=room1' }); // public, room1
    expect(counts()).toEqual({ clients: 1, channels: 1, users: 1 });
    const { token: t1, rootId: u1 } = await signToken();
    const b = await connect(hub, { token: t1, query: '?channel_id=room1' }); // u1, room1
    expect(counts()).toEqual({ clients: 2, channels: 1, users: 2 });
    const c = await connect(hub, { token: t1 }); // u1 again, random channel
    expect(counts()).toEqual({ clients: 3, channels: 2, users: 2 });
    const d = await connect(hub); // public, random channel
    expect(counts()).toEqual({ clients: 4, channels: 3, users: 2 });

    await send(a, { type: 'subscribe', channel_ids: ['room2', 'room3', c.info.channel_id] }, 's1');
    expect(counts()).toEqual({ clients: 4, channels: 5, users: 2 });
    await send(b, { type: 'subscribe', channel_ids: ['room2'] }, 's2');
    expect(counts()).toEqual({ clients: 4, channels: 5, users: 2 });
    await send(a, { type: 'unsubscribe', channel_ids: ['room3'] }, 'u1');
    expect(counts()).toEqual({ clients: 4, channels: 4, users: 2 });

    const { token: t2, rootId: u2 } = await signToken();
    expect(await send(d, { type: 'change_user', token: t2 }, 'cu')).toMatchObject({ type: 'connection', data: { root_id: u2 } });
    expect(counts()).toEqual({ clients: 4, channels: 4, users: 3 });
    expect(await send(a, { type: 'change_user', token: t1 }, 'cu')).toMatchObject({ type: 'connection', data: { root_id: u1 } });
    expect(counts()).toEqual({ clients: 4, channels: 4, users: 2 }); // nobody is public any more

    await c.close();
    expect(counts()).toEqual({ clients: 3, channels: 4, users: 2 }); // a still sits in c's channel
    await a.close();
    expect(counts()).toEqual({ clients: 2, channels: 3, users: 2 }); // room1 (b), room2 (b), d's channel
    await closeClients();
    expect(counts()).toEqual({ clients: 0, channels: 0, users: 0 });
  });
});
