/**
 * Redis killed mid-test and started again on the same port, with two hubs on it: local delivery
 * goes on while it is down, publishes are dropped (not queued, logged once), /healthz says so, and
 * cross-node delivery resumes by itself once Redis is back, without restarting the hubs.
 * Starts its own loopback redis-server (the one ../shared/services installs), so it can kill it.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { testPrefix, withService, untilState } from '../broker-helpers.js';
import { closeClients, connect, signToken, startHub, stopAll, type TestClient } from '../helpers.js';
import { freePort, hasRedisServer, killRedis, startRedis } from '../redis-server.js';

withService('cluster through a Redis outage', 'redis-server on PATH', hasRedisServer, () => {
  describe('cluster through a Redis outage', () => {
    const servers: ChildProcess[] = [];
    afterEach(async () => {
      await closeClients();
      await stopAll();
      await Promise.all(servers.splice(0).map(killRedis));
    });

    it('keeps local delivery, drops while down, and resumes cross-node delivery on the same port', async () => {
      const port = await freePort();
      servers.push(await startRedis(port));
      const lines: Array<{ msg?: string; broker?: string }> = [];
      const log = createLogger('info', 'json', (line) => lines.push(JSON.parse(line) as { msg?: string }));
      const config = { redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: testPrefix(), revocationSyncMs: 0 };
      const a = await startHub(config, { log });
      const b = await startHub(config, { log });
      const { token } = await signToken();
      const sender = await connect(a, { token, query: '?channel_id=room' });
      const localMember = await connect(a, { query: '?channel_id=room' });
      const remoteMember = await connect(b, { token, query: '?channel_id=room' });
      await Promise.all([a.broker.settled(), b.broker.settled()]);
      const say = (client: TestClient, n: number) => client.send({ type: 'channel', channel_ids: ['room'], data: { n } });

      say(sender, 1);
      expect(await remoteMember.next()).toEqual({ n: 1 });
      expect(await localMember.next()).toEqual({ n: 1 });

      await killRedis(servers[0]!);
      await Promise.all([untilState(a, 'down'), untilState(b, 'down')]);
      for (let n = 2; n <= 51; n++) say(sender, n);
      for (let n = 2; n <= 51; n++) expect(await localMember.next()).toEqual({ n });
      const health = (await (await fetch(`${a.url}/healthz`)).json()) as Record<string, unknown>;
      expect(health).toMatchObject({ status: 'degraded', broker: { type: 'redis', state: 'down', dropped: 50 } });

      servers[0] = await startRedis(port);
      await Promise.all([untilState(a, 'up'), untilState(b, 'up')]);
      await Promise.all([a.broker.settled(), b.broker.settled()]);
      say(sender, 52);
      // The first frame after reconnect; what was published while down is gone (at most once).
      expect(await remoteMember.next()).toEqual({ n: 52 });
      await remoteMember.sync();
      expect(remoteMember.pending()).toEqual([]);
      say(remoteMember, 53);
      expect(await localMember.next((f) => f['n'] === 53)).toEqual({ n: 53 });
      expect(((await (await fetch(`${b.url}/healthz`)).json()) as Record<string, unknown>)['status']).toBe('ok');

      // One line per node when the outage starts and one when it ends, however many publishes and retries.
      const count = (msg: string) => lines.filter((l) => l.msg === msg).length;
      expect(count('broker unavailable; delivering to local sockets only while reconnecting')).toBe(2);
      expect(count('broker connection restored; cross-node delivery resumes')).toBe(2);
    });

    it('shuts down while Redis accepts connections but never answers', async () => {
      const port = await freePort();
      const server = await startRedis(port);
      servers.push(server);
      const hub = await startHub({ redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: testPrefix() });
      const client = await connect(hub, { query: '?channel_id=room' });
      await hub.broker.settled();
      server.kill('SIGSTOP');
      try {
        // UNSUBSCRIBE and QUIT get no reply: each waits at most CLOSE_WAIT_MS, then the socket is dropped.
        await client.close();
        await hub.close();
      } finally {
        server.kill('SIGCONT');
      }
    });
  });
});
