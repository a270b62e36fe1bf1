/**
 * The SDK (walker-hub/client) in Node against real hubs: replies matched by uid, listeners,
 * subscriptions, change_user, presence and join/leave, and the connection kept alive across a hub
 * restart and a dead link.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect, HubClientError, type HubClient, type Frame, type MembershipChange, type PresenceClient } from '../../src/client/index.js';
import { closeClients, connect as rawConnect, post, signToken, startHub, stopAll, tempDir } from '../helpers.js';

const clients = new Set<HubClient>();
/** Small backoff so reconnects in these tests take milliseconds, never a fixed sleep. */
const FAST = { minDelayMs: 10, maxDelayMs: 50, factor: 2 };

function client(url: string, options: Parameters<typeof connect>[1] = {}): HubClient {
  const c = connect(url, { WebSocket, backoff: FAST, ...options });
  clients.add(c);
  return c;
}

/** Resolves with the next value a listener of `type` gets. */
function nextEvent<T = Frame>(c: HubClient, type: string): Promise<T> {
  return new Promise((resolve) => {
    const fn = (value: T) => {
      c.off(type, fn as (v: never) => void);
      resolve(value);
    };
    c.on(type, fn as (v: Frame) => void);
  });
}

afterEach(async () => {
  for (const c of clients) c.close();
  clients.clear();
  await closeClients();
});
afterAll(stopAll);

describe('walker-hub/client against a hub', () => {
  it('resolves ready with the connection ids and runs walkers, matching replies by uid', async () => {
    const hub = await startHub();
    const { token, rootId } = await signToken();
    const c = client(hub.url, { token, channelId: 'lobby' });
    const info = await c.ready;
    expect(info).toEqual({ client_id: expect.any(String), root_id: rootId, channel_id: 'lobby' });
    expect(c.info).toEqual(info);

    const progress: Frame[] = [];
    const seen: string[] = [];
    c.on('progress', (f) => progress.push(f));
    c.onAny((type) => seen.push(type));
    // Two calls at once: each gets its own reply.
    const [a, b] = await Promise.all([c.call('self_progress_notif', {}), c.call('send_chat_to_group', { channel_id: 'nobody-here' })]);
    expect(a).toEqual(['do something 1', 'do something 2', 'do something 3', 'do something 4', 'do something 5', 'do something 6']);
    expect(b).toEqual([]);
    expect(progress.map((f) => (f['data'] as { progress: string }).progress)).toEqual(['0%', '20%', '40%', '60%', '80%', '100%']);
    // Replies to our own calls are not events.
    expect(seen).toEqual(['progress', 'progress', 'progress', 'progress', 'progress', 'progress']);
  });

  it('rejects a walker error with its status and code, and an unknown walker with 404', async () => {
    const hub = await startHub();
    const { token } = await signToken();
    const c = client(hub.url, { token });
    await c.ready;
    const bad = await c.call('self_progress_notif', { delay_ms: 'soon' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(HubClientError);
    expect(bad).toMatchObject({ status: 422, code: 'invalid_input' });
    expect((bad as HubClientError).issues?.[0]?.path).toBe('delay_ms');
    await expect(c.call('no_such_walker')).rejects.toMatchObject({ status: 404, code: 'unknown_walker' });

    const pub = client(hub.url);
    await pub.ready;
    await expect(pub.call('self_progress_notif')).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('rejects a call that gets no reply in time with a timeout', async () => {
    const hub = await startHub();
    const { token } = await signToken();
    const c = client(hub.url, { token });
    await c.ready;
    // Five steps of 5 s: far longer than the 30 ms the call waits.
    await expect(c.call('self_progress_notif', { delay_ms: 5000 }, { timeoutMs: 30 })).rejects.toMatchObject({ status: 0, code: 'timeout' });
  });

  it('sends to channels, users and clients; on, onAny and off', async () => {
    const hub = await startHub();
    const alice = await signToken();
    const bob = await signToken();
    const a = client(hub.url, { token: alice.token });
    const b = client(hub.url, { token: bob.token });
    await Promise.all([a.ready, b.ready]);
    expect(await b.subscribe(['room-1', 'room-2'])).toEqual(expect.arrayContaining(['room-1', 'room-2']));

    const any: Array<[string, Frame]> = [];
    b.onAny((type, frame) => any.push([type, frame]));
    const chat = nextEvent(b, 'chat');
    await a.sendToChannels(['room-1'], { type: 'chat', data: { text: 'to the room' } });
    expect(await chat).toEqual({ type: 'chat', data: { text: 'to the room' } });

    const toUser = nextEvent(b, 'chat');
    await a.sendToUsers([bob.rootId], { type: 'chat', data: { text: 'to bob' } });
    expect((await toUser)['data']).toEqual({ text: 'to bob' });

    const removedGot: Frame[] = [];
    const dropped = (f: Frame) => removedGot.push(f);
    b.on('chat', dropped);
    b.off('chat', dropped);
    const toClient = nextEvent(b, 'chat');
    await a.sendToClients([b.info!.client_id], { type: 'chat', data: { text: 'to this tab' } });
    expect((await toClient)['data']).toEqual({ text: 'to this tab' });
    expect(any.map(([type]) => type)).toEqual(['chat', 'chat', 'chat']);
    expect(removedGot).toEqual([]);

    expect(await b.unsubscribe(['room-1'])).not.toContain('room-1');
    // A payload without a type reaches onAny as 'message'.
    const untyped = new Promise<[string, Frame]>((resolve) => b.onAny((type, frame) => resolve([type, frame])));
    await a.sendToClients([b.info!.client_id], { hello: 1 });
    expect(await untyped).toEqual(['message', { hello: 1 }]);
  });

  it('send_alert sends a Directual alert frame to the caller, or to a channel', async () => {
    const hub = await startHub();
    const { token } = await signToken();
    const c = client(hub.url, { token });
    const listener = client(hub.url, { token: (await signToken()).token });
    await Promise.all([c.ready, listener.ready]);
    await listener.subscribe(['ops']);
    const mine = nextEvent(c, 'alert');
    expect(await c.call('send_alert', { message: 'hi' })).toEqual([{ sent: 'self' }]);
    expect(await mine).toEqual({ type: 'alert', data: { message: 'hi', parameters: { position: 'top-right', duration: 4000 } } });
    const theirs = nextEvent(listener, 'alert');
    await c.call('send_alert', { message: 'deploy', channel_id: 'ops', position: 'bottom-left', duration: 1000, icon: '!' });
    expect((await theirs)['data']).toEqual({ message: 'deploy', parameters: { position: 'bottom-left', duration: 1000, icon: '!' } });
    await expect(c.call('send_alert', { message: 'x', position: 'middle' })).rejects.toMatchObject({ status: 422, code: 'invalid_input' });
  });

  it('rejects a refused send (peer events need a token by default)', async () => {
    const hub = await startHub();
    const c = client(hub.url);
    await c.ready;
    await expect(c.sendToChannels(['x'], { type: 'chat' })).rejects.toMatchObject({ code: 'forbidden', status: 403 });
  });

  it('changes user, and a refused token leaves the connection public', async () => {
    const hub = await startHub();
    const c = client(hub.url);
    const publicInfo = await c.ready;
    const { token, rootId } = await signToken();
    expect((await c.changeUser(`Bearer ${token}`)).root_id).toBe(rootId);
    expect(c.info?.root_id).toBe(rootId);
    await expect(c.changeUser('not-a-jwt')).rejects.toMatchObject({ code: 'invalid_token', status: 401 });
    expect(c.info?.root_id).toBe(publicInfo.root_id);
  });

  it('a frame named like an SDK event reaches onAny only', async () => {
    const hub = await startHub();
    const sender = await signToken();
    const c = client(hub.url);
    await c.ready;
    const s = await rawConnect(hub, { token: sender.token });
    const faked: unknown[] = [];
    c.on('reconnect', (info) => faked.push(info));
    const any = new Promise<string>((resolve) => c.onAny((type) => resolve(type)));
    s.send({ type: 'client', client_ids: [c.info!.client_id], data: { type: 'reconnect' } });
    expect(await any).toBe('reconnect');
    expect(faked).toEqual([]);
  });
});

describe('walker-hub/client presence and join/leave', () => {
  /** A hub where `chat:*` has presence (members may ask) and join/leave, and `plain:*` has neither. */
  async function presenceHub() {
    const path = join(tempDir(), 'channels.json');
    writeFileSync(path, JSON.stringify({ namespaces: { chat: { presence: true, join_leave: true }, plain: {} } }));
    return startHub({ channelsFile: path });
  }
  const byId = (clients: PresenceClient[]) => [...clients].sort((x, y) => x.client_id.localeCompare(y.client_id));

  it('presence() lists members, presenceStats() counts them, and join/leave events follow them', async () => {
    const hub = await presenceHub();
    const alice = await signToken();
    const bob = await signToken();
    const a = client(hub.url, { token: alice.token });
    const b = client(hub.url, { token: bob.token });
    const [ai, bi] = await Promise.all([a.ready, b.ready]);
    const aClient = { client_id: ai.client_id, root_id: alice.rootId };
    const bClient = { client_id: bi.client_id, root_id: bob.rootId };

    // A connection's own join comes right after its `subscribed`.
    const ownJoin = nextEvent<MembershipChange>(a, 'join');
    await a.subscribe(['chat:1']);
    expect(await ownJoin).toEqual({ channel_id: 'chat:1', client: aClient });

    const any: Array<[string, Frame]> = [];
    a.onAny((type, frame) => any.push([type, frame]));
    const bJoined = nextEvent<MembershipChange>(a, 'join');
    await b.subscribe(['chat:1']);
    expect(await bJoined).toEqual({ channel_id: 'chat:1', client: bClient });
    expect(byId(await a.presence('chat:1'))).toEqual(byId([aClient, bClient]));
    expect(await b.presenceStats('chat:1')).toEqual({ num_clients: 2, num_users: 2 });

    const bLeft = nextEvent<MembershipChange>(a, 'leave');
    await b.unsubscribe(['chat:1']);
    expect(await bLeft).toEqual({ channel_id: 'chat:1', client: bClient });
    expect(await a.presence('chat:1')).toEqual([aClient]);

    // A connection that closes leaves too.
    const bAgain = nextEvent<MembershipChange>(a, 'join');
    await b.subscribe(['chat:1']);
    await bAgain;
    const bClosed = nextEvent<MembershipChange>(a, 'leave');
    b.close();
    expect(await bClosed).toEqual({ channel_id: 'chat:1', client: bClient });
    expect(await a.presenceStats('chat:1')).toEqual({ num_clients: 1, num_users: 1 });

    // onAny saw the frames whole; the replies to presence requests were not events.
    expect(any.map(([type]) => type)).toEqual(['join', 'leave', 'join', 'leave']);
    expect(any[0]?.[1]).toEqual({ type: 'join', channel_id: 'chat:1', client: bClient });
  });

  it('a refused presence request rejects with a HubClientError', async () => {
    const hub = await presenceHub();
    const c = client(hub.url, { token: (await signToken()).token });
    await c.ready;
    await c.subscribe(['plain:1']);
    const off = await c.presence('plain:1').catch((e: unknown) => e);
    expect(off).toBeInstanceOf(HubClientError);
    expect(off).toMatchObject({ code: 'forbidden', status: 403 });
    // Members only: asking about a channel it is not in is refused as well.
    await expect(c.presence('chat:9')).rejects.toMatchObject({ code: 'forbidden', status: 403 });
    await expect(c.presenceStats('chat:9')).rejects.toMatchObject({ code: 'forbidden', status: 403 });
    // The connection stays usable.
    await c.subscribe(['chat:9']);
    expect(await c.presenceStats('chat:9')).toEqual({ num_clients: 1, num_users: 1 });
  });

  it('a payload of type join: refused from a peer; from a backend without the hub shape it reaches onAny only', async () => {
    const key = 'a-server-key-of-enough-length';
    const path = join(tempDir(), 'channels.json');
    writeFileSync(path, JSON.stringify({ namespaces: { chat: { presence: true, join_leave: true } } }));
    const hub = await startHub({ channelsFile: path, apiKeys: key });
    const c = client(hub.url);
    await c.ready;
    const s = await rawConnect(hub, { token: (await signToken()).token });
    const typed: unknown[] = [];
    c.on('join', (change) => typed.push(change));
    const any = new Promise<Frame>((resolve) => c.onAny((_type, frame) => resolve(frame)));
    // A peer may not send a payload named like a frame of the hub's own (protocol.ts HUB_FRAME_TYPES).
    expect(await s.request({ type: 'client', client_ids: [c.info!.client_id], data: { type: 'join', data: { name: 'ada' } } })).toMatchObject({ type: 'error', error: { code: 'invalid_frame' } });
    // A backend is trusted to send what it likes; the SDK still checks the shape before a typed event.
    expect((await post(hub, '/api/notify', { clients: [c.info!.client_id], data: { type: 'join', data: { name: 'ada' } } }, { headers: { 'X-API-Key': key } })).status).toBe(202);
    expect(await any).toEqual({ type: 'join', data: { name: 'ada' } });
    expect(typed).toEqual([]);
  });
});

describe('walker-hub/client keeps the connection', () => {
  it('across a hub restart: calls in flight reject, getToken runs before the reconnect, channels are re-joined', async () => {
    let hub = await startHub();
    const port = hub.port;
    const user = await signToken();
    let tokenCalls = 0;
    const c = client(hub.url, {
      channelId: 'home',
      getToken: async () => {
        tokenCalls++;
        return (await signToken({ sub: user.userId, root_id: user.rootId })).token;
      },
    });
    const first = await c.ready;
    expect(tokenCalls).toBe(1);
    expect(first.root_id).toBe(user.rootId);
    await c.subscribe(['room']);

    // A slow walker is running when the hub goes away: its call must reject, not hang.
    const started = nextEvent(c, 'progress');
    const inFlight = c.call('self_progress_notif', { delay_ms: 2000 }).catch((e: unknown) => e);
    await started;
    const disconnected = nextEvent<{ code: number }>(c, 'disconnect');
    const reconnected = nextEvent(c, 'reconnect');
    await hub.close();
    expect((await disconnected).code).toBe(1001);
    expect(await inFlight).toMatchObject({ code: 'disconnected', status: 0 });
    await expect(c.call('self_progress_notif')).rejects.toMatchObject({ code: 'disconnected' });

    hub = await startHub({ port });
    const info = await reconnected;
    expect(tokenCalls).toBeGreaterThanOrEqual(2);
    expect(info.root_id).toBe(user.rootId);
    expect(info.channel_id).toBe('home');
    expect(info.client_id).not.toBe(first.client_id);

    // Re-subscribed: a message to 'room' on the new hub reaches it.
    const sender = await signToken();
    const s = await rawConnect(hub, { token: sender.token });
    const chat = nextEvent(c, 'chat');
    s.send({ type: 'channel', channel_ids: ['room'], data: { type: 'chat', data: 'after restart' } });
    expect((await chat)['data']).toBe('after restart');
    expect(await c.call('self_progress_notif')).toHaveLength(6);
  });

  it('notices a dead link by its unanswered pings and reconnects', async () => {
    const hub = await startHub();
    const proxy = await startProxy(hub.port);
    try {
      const { token } = await signToken();
      const c = client(`http://127.0.0.1:${proxy.port}`, { token, pingIntervalMs: 50, pingTimeoutMs: 500 });
      const first = await c.ready;
      const disconnected = nextEvent<{ code: number; reason: string }>(c, 'disconnect');
      const reconnected = nextEvent(c, 'reconnect');
      // The TCP connection stays open but carries nothing: only the app-level ping can tell.
      proxy.freeze();
      const why = await disconnected;
      expect(why.code).toBe(4000);
      expect(why.reason).toMatch(/no pong/);
      const info = await reconnected;
      expect(info.client_id).not.toBe(first.client_id);
      expect(await c.call('self_progress_notif')).toHaveLength(6);
    } finally {
      await proxy.close();
    }
  });

  it('a token refused at the upgrade is replaced by getToken on the next attempt', async () => {
    const hub = await startHub();
    const expired = await signToken({}, { expiresIn: Math.floor(Date.now() / 1000) - 3600 });
    const fresh = await signToken();
    const tokens = [expired.token, fresh.token];
    let calls = 0;
    const c = client(hub.url, { getToken: () => tokens[Math.min(calls++, 1)] });
    const failed = nextEvent<Frame>(c, 'error');
    const info = await c.ready;
    // ws shows the hub's answer; with getToken the next attempt may bring a good token, so it retries.
    expect(((await failed)['error'] as { code: string }).code).toBe('invalid_token');
    expect(calls).toBe(2);
    expect(info.root_id).toBe(fresh.rootId);
  });

  it('a bad token at the first connect rejects ready with the hub\'s 401 invalid_token, and is not retried', async () => {
    const hub = await startHub();
    let attempts = 0;
    class Counting extends WebSocket {
      constructor(url: string) {
        super(url);
        attempts++;
      }
    }
    // A zero backoff: a retry, were one scheduled, would be due before any timer set later.
    const c = client(hub.url, { token: 'not-a-jwt', WebSocket: Counting, backoff: { minDelayMs: 0, maxDelayMs: 0, factor: 2 } });
    const failed = nextEvent<Frame>(c, 'error');
    const error: unknown = await c.ready.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HubClientError);
    // The hub's own code and message, not a bare 1006 close.
    expect(error).toMatchObject({ code: 'invalid_token', status: 401, message: 'Token is not a compact JWS' });
    expect((await failed)['error']).toEqual({ code: 'invalid_token', message: 'Token is not a compact JWS' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(attempts).toBe(1);
    await expect(c.call('self_progress_notif')).rejects.toMatchObject({ code: 'disconnected' });
  });

  it('a hub that is down at first is retried, with each failure reported, until it is up', async () => {
    // A port nothing listens on, until the hub below takes it.
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as { port: number }).port;
    probe.close();
    await once(probe, 'close');
    const { token } = await signToken();
    const c = client(`http://127.0.0.1:${port}`, { token });
    const failures: string[] = [];
    c.on('error', (f) => failures.push((f['error'] as { code: string }).code));
    const firstFailure = nextEvent<Frame>(c, 'error');
    await firstFailure;
    const hub = await startHub({ port });
    const info = await c.ready;
    expect(info.client_id).toEqual(expect.any(String));
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(new Set(failures)).toEqual(new Set(['connect_failed']));
    expect(hub.port).toBe(port);
  });

  it('close() stops reconnecting and rejects what still waits', async () => {
    const hub = await startHub();
    const { token } = await signToken();
    const c = client(hub.url, { token });
    await c.ready;
    const waiting = c.call('self_progress_notif', { delay_ms: 2000 }).catch((e: unknown) => e);
    c.close();
    expect(await waiting).toMatchObject({ code: 'closed' });
    expect(c.connected).toBe(false);
    expect(() => connect('not a url', { WebSocket })).toThrow(TypeError);
    const never = connect('http://127.0.0.1:1', { WebSocket, backoff: FAST });
    never.close();
    await expect(never.ready).rejects.toMatchObject({ code: 'closed' });
  });
});

it('close() during the handshake ends quietly (no stray socket error)', async () => {
  // Accepts TCP and never answers the upgrade, so the socket is still connecting when closed.
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  try {
    const c = client(`http://127.0.0.1:${port}`);
    const [peer] = (await once(server, 'connection')) as [Socket];
    const peerClosed = once(peer, 'close');
    c.close();
    await peerClosed;
    await expect(c.ready).rejects.toMatchObject({ code: 'closed' });
  } finally {
    server.close();
  }
});

/** A TCP proxy on 127.0.0.1 whose existing connections can be frozen (bytes held, sockets kept open). */
async function startProxy(targetPort: number): Promise<{ port: number; freeze(): void; close(): Promise<void> }> {
  const pairs: Array<[Socket, Socket]> = [];
  const server: Server = createServer((down) => {
    const up = tcpConnect(targetPort, '127.0.0.1');
    down.pipe(up);
    up.pipe(down);
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
    pairs.push([down, up]);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    freeze() {
      for (const [down, up] of pairs.splice(0)) {
        down.unpipe(up);
        up.unpipe(down);
        down.pause();
        up.pause();
        frozen.push(down, up);
      }
    },
    async close() {
      for (const s of [...frozen.splice(0), ...pairs.flat()]) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
const frozen: Socket[] = [];
