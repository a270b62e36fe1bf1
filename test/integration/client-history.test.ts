/**
 * The SDK on history channels against a real hub: it keeps each channel's position, recovers what
 * it missed after the link drops (listeners see the plain data, in order, once), reports
 * `recovered: false` after a hub restart (new epoch), and reads history with `history()`.
 */
import { once } from 'node:events';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseChannelsFile } from '../../src/channels/load.js';
import { connect, HubClientError, type Frame, type HubClient, type SubscribedChannel } from '../../src/client/index.js';
import type { RunningHub } from '../../src/node.js';
import { REDIS_URL, serviceFor } from '../broker-helpers.js';
import { closeClients, post, startHub, stopAll, walkersFrom } from '../helpers.js';

const KEY = 'a-server-key-of-enough-length';
const FAST = { minDelayMs: 10, maxDelayMs: 50, factor: 2 };
const channels = parseChannelsFile({ namespaces: { chat: { history_size: 100, history_ttl: 600 }, plain: {} } }, walkersFrom({}));
const clients = new Set<HubClient>();

const start = (port = 0) => startHub({ port, apiKeys: KEY }, { channels });
const publish = async (hub: RunningHub, channel: string, data: unknown) => {
  const res = await post(hub, '/api/notify', { channels: [channel], data }, { headers: { 'X-API-Key': KEY } });
  expect(res.body).toMatchObject({ status: 202 });
};

function client(url: string): HubClient {
  const c = connect(url, { WebSocket, backoff: FAST, pingIntervalMs: 0 });
  clients.add(c);
  return c;
}

function nextEvent<T>(c: HubClient, type: string, match: (value: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const fn = (value: T) => {
      if (!match(value)) return;
      c.off(type, fn as (v: never) => void);
      resolve(value);
    };
    c.on(type, fn as (v: Frame) => void);
  });
}

/** Collects `msg` notifications; `until(n)` resolves once `n` have arrived. */
function messages(c: HubClient) {
  const got: Frame[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  c.on('msg', (f) => {
    got.push(f);
    for (const w of waiters.filter((w) => got.length >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  const until = (n: number) => (got.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })));
  return { got, until };
}

afterEach(async () => {
  for (const c of clients) c.close();
  clients.clear();
  await closeClients();
});
afterAll(stopAll);

describe('walker-hub/client on history channels', () => {
  it('recovers the publications missed while the link was down, in order, as plain notifications', async () => {
    const hub = await start();
    const proxy = await startProxy(hub.port);
    try {
      const c = client(`http://127.0.0.1:${proxy.port}`);
      await c.ready;
      const log: string[] = [];
      const subscribed: SubscribedChannel[] = [];
      c.on('subscribed', (s) => {
        subscribed.push(s);
        log.push(`subscribed ${String(s.recovered)}`);
      });
      const { got, until } = messages(c);
      c.on('msg', (f) => log.push(`msg ${String(f['n'])}`));
      const any: string[] = [];
      // Failed attempts while the proxy refuses are `error` events; only notifications count here.
      c.onAny((type) => type !== 'error' && any.push(type));

      expect(await c.subscribe(['chat:a', 'plain:a'])).toEqual(expect.arrayContaining(['chat:a', 'plain:a']));
      const epoch = subscribed[0]?.position?.epoch;
      expect(subscribed).toEqual([{ channel_id: 'chat:a', recovered: null, position: { offset: 0, epoch: expect.any(String) }, missed: 0 }]);
      await publish(hub, 'chat:a', { type: 'msg', n: 1 });
      await publish(hub, 'chat:a', { type: 'msg', n: 2 });
      await until(2);

      const disconnected = nextEvent(c, 'disconnect');
      const reconnected = nextEvent(c, 'reconnect');
      proxy.cut();
      await disconnected;
      // Published while the client cannot connect (the proxy refuses it): only recovery can bring them.
      for (let n = 3; n <= 7; n++) await publish(hub, 'chat:a', { type: 'msg', n });
      proxy.allow();
      await reconnected;
      await until(7);
      await publish(hub, 'chat:a', { type: 'msg', n: 8 });
      await until(8);

      // Listeners see the data exactly as published, each once, in order; never the publication wrapper.
      expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ type: 'msg', n })));
      expect(any).toEqual(Array(8).fill('msg'));
      expect(subscribed[1]).toEqual({ channel_id: 'chat:a', recovered: true, position: { offset: 7, epoch }, missed: 5 });
      // The event comes before the publications it announces.
      expect(log).toEqual(['subscribed null', 'msg 1', 'msg 2', 'subscribed true', 'msg 3', 'msg 4', 'msg 5', 'msg 6', 'msg 7', 'msg 8']);
    } finally {
      await proxy.close();
    }
  });

  it('the connection\'s own channel (channelId) recovers after a reconnect too, from the last publication seen', async () => {
    const hub = await start();
    const proxy = await startProxy(hub.port);
    try {
      const c = connect(`http://127.0.0.1:${proxy.port}`, { WebSocket, backoff: FAST, pingIntervalMs: 0, channelId: 'chat:own' });
      clients.add(c);
      await c.ready;
      const { got, until } = messages(c);
      await publish(hub, 'chat:own', { type: 'msg', n: 1 });
      await until(1);
      const disconnected = nextEvent(c, 'disconnect');
      const report = nextEvent<SubscribedChannel>(c, 'subscribed');
      proxy.cut();
      await disconnected;
      for (let n = 2; n <= 4; n++) await publish(hub, 'chat:own', { type: 'msg', n });
      proxy.allow();
      expect(await report).toMatchObject({ channel_id: 'chat:own', recovered: true, missed: 3 });
      await until(4);
      await publish(hub, 'chat:own', { type: 'msg', n: 5 });
      await until(5);
      expect(got.map((f) => f['n'])).toEqual([1, 2, 3, 4, 5]);
    } finally {
      await proxy.close();
    }
  });

  it('after a hub restart (in-memory history, new epoch) reports recovered false, then delivers new publications', async () => {
    let hub = await start();
    const port = hub.port;
    const c = client(hub.url);
    await c.ready;
    const { got, until } = messages(c);
    const first = nextEvent<SubscribedChannel>(c, 'subscribed');
    await c.subscribe(['chat:r']);
    const before = await first;
    await publish(hub, 'chat:r', { type: 'msg', n: 1 });
    await until(1);

    const reconnected = nextEvent(c, 'reconnect');
    const after = nextEvent<SubscribedChannel>(c, 'subscribed');
    await hub.close();
    hub = await start(port);
    const report = await after;
    await reconnected;
    expect(report).toEqual({ channel_id: 'chat:r', recovered: false, position: { offset: 0, epoch: expect.any(String) }, missed: 0 });
    expect(report.position?.epoch).not.toBe(before.position?.epoch);

    // Offset 1 again, in the new epoch: not mistaken for the duplicate of the old offset 1.
    await publish(hub, 'chat:r', { type: 'msg', n: 2 });
    await until(2);
    expect(got).toEqual([
      { type: 'msg', n: 1 },
      { type: 'msg', n: 2 },
    ]);
  });

  it('on Redis, a reconnect after a hub restart recovers what was published meanwhile (history outlives the hub)', async (ctx) => {
    const url = serviceFor(ctx, 'SDK recovery on Redis', 'REDIS_URL', REDIS_URL);
    const prefix = `t${Math.random().toString(16).slice(2, 10)}:`;
    const onRedis = (port = 0) => startHub({ port, apiKeys: KEY, redisUrl: url, redisPrefix: prefix }, { channels });
    let hub = await onRedis();
    const other = await onRedis();
    const port = hub.port;
    const c = client(hub.url);
    await c.ready;
    const { got, until } = messages(c);
    await c.subscribe(['chat:redis']);
    await publish(hub, 'chat:redis', { type: 'msg', n: 1 });
    await until(1);

    const after = nextEvent<SubscribedChannel>(c, 'subscribed');
    await hub.close();
    // Published while the client's hub is down, through another node.
    await publish(other, 'chat:redis', { type: 'msg', n: 2 });
    await publish(other, 'chat:redis', { type: 'msg', n: 3 });
    hub = await onRedis(port);
    const report = await after;
    expect(report).toMatchObject({ channel_id: 'chat:redis', recovered: true, missed: 2 });
    await until(3);
    await publish(other, 'chat:redis', { type: 'msg', n: 4 });
    await until(4);
    expect(got.map((f) => f['n'])).toEqual([1, 2, 3, 4]);
  });

  it('history() returns kept publications, the latest `limit` or those after `since`; a channel without history rejects', async () => {
    const hub = await start();
    const c = client(hub.url);
    await c.ready;
    const joined = nextEvent<SubscribedChannel>(c, 'subscribed');
    await c.subscribe(['chat:h', 'plain:h']);
    const epoch = (await joined).position?.epoch;
    for (let n = 1; n <= 4; n++) await publish(hub, 'chat:h', { type: 'msg', n });

    expect(await c.history('chat:h')).toEqual({ offset: 4, epoch, publications: [1, 2, 3, 4].map((n) => ({ offset: n, data: { type: 'msg', n } })) });
    expect((await c.history('chat:h', { limit: 2 })).publications.map((p) => p.offset)).toEqual([3, 4]);
    expect((await c.history('chat:h', { since: { offset: 3, epoch: epoch ?? '' } })).publications).toEqual([{ offset: 4, data: { type: 'msg', n: 4 } }]);

    const refused = await c.history('plain:h').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HubClientError);
    expect(refused).toMatchObject({ code: 'forbidden', status: 403 });
  });
});

/** A TCP proxy on 127.0.0.1 whose connections can be cut, and which can refuse new ones until allowed again. */
async function startProxy(targetPort: number): Promise<{ port: number; cut(): void; allow(): void; close(): Promise<void> }> {
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  const server: Server = createServer((down) => {
    if (refusing) {
      down.destroy();
      return;
    }
    const up = tcpConnect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [down, up];
    pairs.add(pair);
    down.pipe(up);
    up.pipe(down);
    const end = () => {
      pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const cutAll = () => {
    for (const [down, up] of [...pairs]) {
      down.destroy();
      up.destroy();
    }
    pairs.clear();
  };
  return {
    port: address.port,
    cut() {
      refusing = true;
      cutAll();
    },
    allow() {
      refusing = false;
    },
    async close() {
      cutAll();
      server.close();
      await once(server, 'close');
    },
  };
}
