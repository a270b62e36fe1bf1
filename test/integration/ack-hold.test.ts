/**
 * While a reply waits for the broker to confirm a subscription (hold.ts): later frames keep their
 * order, the wait is bounded when Redis is down or frozen, and a socket that floods meanwhile is
 * closed with `heldOverflow`. On the memory broker nothing waits. Redis here is a loopback
 * redis-server of the test's own, so it can be killed or frozen.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { closeCodes } from '../../src/errors.js';
import { HOLD_LIMITS } from '../../src/hub/hold.js';
import { testPrefix, withService, untilState } from '../broker-helpers.js';
import { closeClients, connect, startHub, stopAll } from '../helpers.js';
import { freePort, hasRedisServer, killRedis, startRedis } from '../redis-server.js';

describe('replies on the memory broker', () => {
  afterEach(async () => {
    await closeClients();
    await stopAll();
  });

  it('answers subscribe and a ping sent right behind it in order, without waiting', async () => {
    const hub = await startHub();
    const client = await connect(hub);
    client.send({ type: 'subscribe', channel_ids: ['a', 'b'], uid: 's' });
    client.send({ type: 'ping', uid: 'p' });
    expect(await client.next()).toMatchObject({ type: 'subscribed', uid: 's' });
    expect(await client.next()).toMatchObject({ type: 'pong', uid: 'p' });
  });
});

withService('replies while Redis is down', 'redis-server on PATH', hasRedisServer, () => {
  describe('replies while Redis is down', () => {
    const servers: ChildProcess[] = [];
    afterEach(async () => {
      await closeClients();
      await stopAll();
      // A frozen server is SIGKILLed too (killRedis ends a stopped process).
      await Promise.all(servers.splice(0).map(killRedis));
    });

    const hubOn = async (brokerConfirmTimeoutMs: number) => {
      const port = await freePort();
      const server = await startRedis(port);
      servers.push(server);
      const hub = await startHub({ redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: testPrefix(), brokerConfirmTimeoutMs, peerEvents: 'public' });
      return { hub, server };
    };

    it('still answers subscribe within the confirm timeout, in order, and local delivery works', async () => {
      const timeoutMs = 300;
      const { hub, server } = await hubOn(timeoutMs);
      const client = await connect(hub);
      const local = await connect(hub);
      await hub.broker.settled();
      await killRedis(server);
      await untilState(hub, 'down');
      const started = performance.now();
      client.send({ type: 'subscribe', channel_ids: ['while-down'], uid: 's' });
      client.send({ type: 'ping', uid: 'p' });
      expect(await client.next()).toMatchObject({ type: 'subscribed', uid: 's', channel_ids: expect.arrayContaining(['while-down']) });
      const waited = performance.now() - started;
      expect(await client.next()).toMatchObject({ type: 'pong', uid: 'p' });
      // The bound plus scheduling slack on a busy machine.
      expect(waited).toBeLessThan(timeoutMs + 1000);
      // Local delivery goes on.
      expect(await local.request({ type: 'subscribe', channel_ids: ['while-down'] })).toMatchObject({ type: 'subscribed' });
      client.send({ type: 'channel', channel_ids: ['while-down'], data: { n: 1 } });
      expect(await local.next()).toEqual({ n: 1 });
    });

    it('answers a connect within the confirm timeout while Redis is frozen (connected but not answering)', async () => {
      const timeoutMs = 300;
      const { hub, server } = await hubOn(timeoutMs);
      server.kill('SIGSTOP');
      const started = performance.now();
      const client = await connect(hub, { query: '?channel_id=frozen' });
      expect(client.info.channel_id).toBe('frozen');
      expect(performance.now() - started).toBeLessThan(timeoutMs + 1000);
    });

    it(`closes a socket that sends over ${HOLD_LIMITS.frames} frames while its reply waits, with heldOverflow`, async () => {
      const { hub, server } = await hubOn(10_000);
      const client = await connect(hub);
      await hub.broker.settled();
      server.kill('SIGSTOP');
      client.send({ type: 'subscribe', channel_ids: ['flood'], uid: 's' });
      for (let i = 0; i <= HOLD_LIMITS.frames; i++) client.send({ type: 'ping', uid: `p${i}` });
      const closed = await client.closed;
      expect(closed.code).toBe(closeCodes.heldOverflow);
      expect(closed.reason).toMatch(/while a reply waited for the broker/);
      // Nothing was answered while it waited: no subscribed, no pong.
      expect(client.pending()).toEqual([]);
    });
  });
});
