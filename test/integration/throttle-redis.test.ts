/**
 * Login/register throttles stored in Redis: two hubs on one Redis (or one Redis Cluster) spend
 * from one budget per email, and with Redis unreachable or frozen the limit still holds per node
 * (the memory insurance limiter) and logins are answered, never left hanging.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config.js';
import type { RunningHub } from '../../src/node.js';
import { REDIS_CLUSTER_NODES, REDIS_URL, testPrefix, withService } from '../broker-helpers.js';
import { post, startHub, stopAll } from '../helpers.js';
import { freePort, hasRedisServer, killRedis, startRedis } from '../redis-server.js';

/** Two failed logins per email per minute; the per-IP budget is out of the way (every test client is 127.0.0.1). */
const budget: Partial<ConfigInput> = { authRatePerAccount: 2, authRatePerIp: 1000, authRateWindowSec: 60, revocationSyncMs: 0 };
const login = (hub: RunningHub, email: string) => post(hub, '/user/login', { email, password: 'wrong-password-123' });

afterEach(stopAll);

function sharedBudget(name: string, config: Partial<ConfigInput>): void {
  describe(`auth throttles on ${name}`, () => {
    it('shares one per-email budget between two hubs: spent on A, refused on B with 429 + Retry-After', async () => {
      const shared = { ...budget, ...config, redisPrefix: testPrefix() };
      const a = await startHub(shared);
      const b = await startHub(shared);
      const email = 'shared@example.com';
      expect((await login(a, email)).status).toBe(400);
      expect((await login(a, email)).status).toBe(400);
      const refused = await login(b, email);
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ status: 429, error: { code: 'rate_limited' } });
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // Another email still has its own budget on both hubs.
      expect((await login(b, 'other@example.com')).status).toBe(400);
      expect((await login(a, 'other@example.com')).status).toBe(400);
    });

    it('a successful login clears the failures on every hub', async () => {
      const shared = { ...budget, ...config, redisPrefix: testPrefix() };
      const a = await startHub(shared);
      // B reads users from A's store: the budget is in Redis, the account in A's embedded store.
      const b = await startHub(shared, { store: a.store });
      const creds = { email: 'good@example.com', password: 'right-password-123' };
      // Registering spends one attempt of the email's budget, the login on B the second (then clears both).
      expect((await post(a, '/user/register', creds)).status).toBe(201);
      expect((await post(b, '/user/login', creds)).status).toBe(200);
      // Reset in Redis: two more failures fit before a refusal, on either hub.
      expect((await login(a, creds.email)).status).toBe(400);
      expect((await login(b, creds.email)).status).toBe(400);
      expect((await login(a, creds.email)).status).toBe(429);
    });
  });
}

withService('auth throttles on Redis', 'REDIS_URL', REDIS_URL, (url) => sharedBudget('Redis', { redisUrl: url }));
withService('auth throttles on Redis Cluster', 'REDIS_CLUSTER_NODES', REDIS_CLUSTER_NODES, (nodes) => sharedBudget('Redis Cluster', { redisClusterNodes: nodes }));

describe('auth throttles with Redis unreachable', () => {
  it('still limits per node (insurance limiter) and answers at once', async () => {
    // Nothing listens on this port: the client never becomes ready.
    const port = await freePort();
    const hub = await startHub({ ...budget, redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: testPrefix() });
    const email = 'offline@example.com';
    expect((await login(hub, email)).status).toBe(400);
    expect((await login(hub, email)).status).toBe(400);
    const refused = await login(hub, email);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

withService('auth throttles with Redis frozen', 'redis-server on PATH', hasRedisServer, () => {
  describe('auth throttles with Redis frozen', () => {
    let server: ChildProcess | null = null;
    afterEach(async () => {
      await stopAll();
      if (server) await killRedis(server);
      server = null;
    });

    it('a Redis that accepts but never answers does not hang logins: the insurance limiter answers and limits', async () => {
      const port = await freePort();
      server = await startRedis(port);
      const hub = await startHub({ ...budget, redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: testPrefix() });
      const email = 'frozen@example.com';
      // Spent in Redis while it answers.
      expect((await login(hub, email)).status).toBe(400);
      server.kill('SIGSTOP');
      // Each command times out (COMMAND_TIMEOUT_MS) and the memory limiter decides; the test's own
      // timeout is what a hang would hit.
      expect((await login(hub, email)).status).toBe(400);
      expect((await login(hub, email)).status).toBe(400);
      expect((await login(hub, email)).status).toBe(429);
    });
  });
});
