/**
 * Namespace rules, presence, join/leave and server joins across three real hubs on one Redis or Redis Cluster (run by
 * channels-cluster.test.ts); the single-node case is in presence.test.ts.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseChannelsFile } from '../../src/channels/load.js';
import type { ConfigInput } from '../../src/config.js';
import { defineWalker } from '../../src/walkers/define.js';
import type { RunningHub } from '../../src/node.js';
import { testPrefix } from '../broker-helpers.js';
import { announcedPort, HUB_BIN, killChildren, trackChild } from '../cli-process.js';
import { closeClients, connect, post, signToken, standaloneEnv, startHub, stopAll, tempDir, TEST_SECRET, walkersFrom, type Frame, type TestClient } from '../helpers.js';

export const PRESENCE_CHANNELS = { namespaces: { chat: { presence: true, join_leave: true } } };

export function channelsFile(): string {
  const path = join(tempDir(), 'channels.json');
  writeFileSync(path, JSON.stringify(PRESENCE_CHANNELS));
  return path;
}

const ids = (frame: Frame) => ((frame['clients'] as Array<{ client_id: string }>) ?? []).map((c) => c.client_id).sort();

export function channelsClusterSuite(name: string, broker: Partial<ConfigInput>, env: Record<string, string>): void {
  describe(`channels over ${name}`, () => {
    afterEach(async () => {
      await closeClients();
      await stopAll();
      await killChildren();
    });

    const start = async (prefix: string, extra: Partial<ConfigInput> = {}) =>
      startHub({ ...broker, redisPrefix: prefix, revocationSyncMs: 0, channelsFile: channelsFile(), presenceTtlSec: 3, ...extra });

    it('answers for all nodes; join and leave frames reach members on every node; a clean shutdown removes its entries at once', async () => {
      const prefix = testPrefix();
      const [a, b, c] = (await Promise.all([start(prefix), start(prefix), start(prefix)])) as [RunningHub, RunningHub, RunningHub];
      const room = `chat:${prefix}`;
      const alice = await signToken();
      const onA = await connect(a, { token: alice.token });
      expect(await onA.request({ type: 'subscribe', channel_ids: [room] })).toMatchObject({ type: 'subscribed' });
      expect(await onA.next('join')).toEqual({ type: 'join', channel_id: room, client: { client_id: onA.info.client_id, root_id: alice.rootId } });

      const bob = await signToken();
      const onB = await connect(b, { token: bob.token });
      await onB.request({ type: 'subscribe', channel_ids: [room] });
      expect(await onA.next('join')).toMatchObject({ client: { client_id: onB.info.client_id, root_id: bob.rootId } });
      const onC = await connect(c, { token: alice.token });
      await onC.request({ type: 'subscribe', channel_ids: [room] });
      expect(await onB.next((f) => f.type === 'join' && (f['client'] as Frame)['client_id'] === onC.info.client_id)).toMatchObject({ channel_id: room });

      for (const asker of [onA, onB, onC]) {
        expect(ids(await asker.request({ type: 'presence', channel_id: room }))).toEqual([onA.info.client_id, onB.info.client_id, onC.info.client_id].sort());
        expect(await asker.request({ type: 'presence_stats', channel_id: room })).toMatchObject({ type: 'presence_stats', channel_id: room, num_clients: 3, num_users: 2 });
      }

      // A killed socket leaves: members elsewhere hear it, presence no longer lists it.
      onB.ws.terminate();
      expect(await onA.next('leave')).toMatchObject({ type: 'leave', channel_id: room, client: { client_id: onB.info.client_id } });
      expect(ids(await onC.request({ type: 'presence', channel_id: room }))).toEqual([onA.info.client_id, onC.info.client_id].sort());

      // A clean shutdown of node c removes its entries before it is gone.
      await c.close();
      expect(ids(await onA.request({ type: 'presence', channel_id: room }))).toEqual([onA.info.client_id]);
    });

    it('the server API subscribes a user\'s connections on another node, and answers presence for all nodes', async () => {
      const prefix = testPrefix();
      const key = 'a-server-key-of-enough-length';
      const [a, b, c] = (await Promise.all([start(prefix, { apiKeys: key }), start(prefix, { apiKeys: key }), start(prefix, { apiKeys: key })])) as [RunningHub, RunningHub, RunningHub];
      const room = `chat:${prefix}-api`;
      const carol = await signToken();
      const onB = await connect(b, { token: carol.token });
      const res = await post(a, '/api/subscriptions', { users: [carol.rootId], subscribe: [room] }, { headers: { 'X-API-Key': key } });
      expect(res).toMatchObject({ status: 202, body: { connections: 0 } });
      expect(await onB.next('subscribed')).toMatchObject({ channel_ids: expect.arrayContaining([room]) });
      // `subscribed` is live: a notification from a third node reaches it.
      await post(c, '/api/notify', { channels: [room], data: { hello: 1 } }, { headers: { 'X-API-Key': key } });
      expect(await onB.next((f) => f['hello'] === 1)).toEqual({ hello: 1 });
      expect(await onB.next('join')).toMatchObject({ client: { client_id: onB.info.client_id } });
      const answer = await fetch(`${c.url}/api/presence/${encodeURIComponent(room)}`, { headers: { 'X-API-Key': key } });
      expect(await answer.json()).toMatchObject({ status: 200, channel_id: room, clients: [{ client_id: onB.info.client_id, root_id: carol.rootId }], num_clients: 1, num_users: 1 });
    });

    it('namespace rules hold on every node: refusals, user-limited channels, a subscribe walker, publish rules', async () => {
      const prefix = testPrefix();
      const walkers = walkersFrom({
        authorize_room: defineWalker({
          input: z.object({ channel_id: z.string() }),
          auth: false,
          methods: ['websocket'],
          run: async (_ctx, { channel_id }) => !channel_id.includes('no-'),
        }),
      });
      const rules = parseChannelsFile(
        { namespaces: { private: { subscribe: 'authenticated' }, ro: { publish: 'none' }, dm: { user_limited: true }, room: { subscribe_walker: 'authorize_room' }, open: { publish: 'subscribers' } } },
        walkers,
      );
      const nodes = await Promise.all([0, 1, 2].map(() => startHub({ ...broker, redisPrefix: prefix, revocationSyncMs: 0, peerEvents: 'public' }, { walkers, channels: rules })));
      const alice = await signToken();
      const bob = await signToken();
      for (const node of nodes) {
        const anon = await connect(node);
        const a = await connect(node, { token: alice.token });
        const b = await connect(node, { token: bob.token });
        expect(await anon.request({ type: 'subscribe', channel_ids: ['private:x'] })).toMatchObject({ type: 'error', error: { code: 'forbidden' } });
        expect(await a.request({ type: 'subscribe', channel_ids: ['private:x'] })).toMatchObject({ type: 'subscribed' });
        expect(await b.request({ type: 'subscribe', channel_ids: [`dm:#${alice.rootId}`] })).toMatchObject({ type: 'error', error: { code: 'forbidden' } });
        expect(await a.request({ type: 'subscribe', channel_ids: [`dm:#${alice.rootId}`] })).toMatchObject({ type: 'subscribed' });
        expect(await anon.request({ type: 'subscribe', channel_ids: ['room:no-1'] })).toMatchObject({ type: 'error', error: { code: 'forbidden' } });
        expect(await anon.request({ type: 'subscribe', channel_ids: ['room:yes-1'] })).toMatchObject({ type: 'subscribed' });
        expect(await a.request({ type: 'channel', channel_ids: ['ro:x'], data: 1 })).toMatchObject({ type: 'error', error: { code: 'forbidden' } });
        expect(await a.request({ type: 'channel', channel_ids: ['open:x'], data: 1 })).toMatchObject({ type: 'error', error: { code: 'forbidden' } });
      }
      // Publishing by members of `open:` reaches members on the other nodes.
      const [n0, n1] = nodes as [RunningHub, RunningHub];
      const m0 = await connect(n0);
      const m1 = await connect(n1);
      await m0.request({ type: 'subscribe', channel_ids: ['open:y'] });
      await m1.request({ type: 'subscribe', channel_ids: ['open:y'] });
      expect(await m0.request({ type: 'channel', channel_ids: ['open:y'], data: { from: 0 } })).toMatchObject({ type: 'ack' });
      expect(await m1.next((f) => f['from'] === 0)).toEqual({ from: 0 });
    });

    it('a killed node\'s members vanish within presenceTtlSec', async () => {
      const prefix = testPrefix();
      const a = await start(prefix);
      const room = `chat:${prefix}`;
      const child = trackChild(
        spawn(process.execPath, [HUB_BIN, '--port', '0', '--channels', channelsFile(), '--presence-ttl', '3', '--redis-prefix', prefix, '--jwt-secret', TEST_SECRET, '--data-dir', tempDir()], {
          env: standaloneEnv({ ...env, WALKER_HUB_ANNOUNCE: '1', WALKER_HUB_LOG_LEVEL: 'warn' }),
          stdio: ['ignore', 'pipe', 'inherit'],
        }),
      );
      const port = await announcedPort(child);
      const near = await connect(a);
      await near.request({ type: 'subscribe', channel_ids: [room] });
      const far = await connect({ port } as RunningHub);
      await far.request({ type: 'subscribe', channel_ids: [room] });
      // `subscribed` goes out before the presence write; the `join` frame after it is answered
      // (docs/channels.md), so once `near` has far's join, any node's presence lists far.
      await near.next((f) => f.type === 'join' && (f['client'] as Frame)['client_id'] === far.info.client_id);
      expect(ids(await near.request({ type: 'presence', channel_id: room }))).toEqual([far.info.client_id, near.info.client_id].sort());

      const killedAt = Date.now();
      child.kill('SIGKILL');
      await far.closed;
      // Nothing removes a dead node's entries but their expiry: the bound is the whole point, so this
      // waits it out (3 s here) and asks once, rather than polling.
      await new Promise((resolve) => setTimeout(resolve, killedAt + 3000 + 100 - Date.now()));
      expect(ids(await near.request({ type: 'presence', channel_id: room }))).toEqual([near.info.client_id]);
    }, 20_000);

    it('a live node keeps its members listed past presenceTtlSec (it re-stamps them)', async () => {
      const prefix = testPrefix();
      const a = await start(prefix);
      const room = `chat:${prefix}`;
      const member: TestClient = await connect(a);
      await member.request({ type: 'subscribe', channel_ids: [room] });
      // Longer than the TTL (3 s): still listed, because its node re-stamps it every second.
      await new Promise((resolve) => setTimeout(resolve, 3500));
      expect(ids(await member.request({ type: 'presence', channel_id: room }))).toEqual([member.info.client_id]);
    }, 20_000);
  });
}
