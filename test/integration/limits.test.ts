/**
 * Abuse limits over real sockets: auth throttles, the per-connection frame budget, connection caps
 * and the Origin allow-list. Each shows the limit holding and everyone else (another IP, another
 * account, another socket) unaffected. "Another client" is a distinct loopback source address.
 */
import { request } from 'node:http';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningHub } from '../../src/node.js';
import { closeClients, connect, startHub, stopAll, TestClient, wsUrl, type Frame } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

const OTHER_IP = '127.0.0.2';

interface Reply {
  status: number;
  retryAfter: string | undefined;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** POSTs JSON from a chosen loopback source address (node:http, a fresh connection each time). */
function postFrom(hub: RunningHub, path: string, body: unknown, localAddress = '127.0.0.1'): Promise<Reply> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: hub.port,
        path,
        method: 'POST',
        localAddress,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          const retry = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(retry) ? retry[0] : retry, body: JSON.parse(text) as Reply['body'] });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

let seq = 0;
const freshEmail = () => `limits${++seq}.${Date.now()}@example.com`;

/** Counts store lookups, which every login makes just before scrypt runs. */
function countLookups(hub: RunningHub): { readonly calls: number } {
  const counter = { calls: 0 };
  const original = hub.store.findUserByEmail.bind(hub.store);
  hub.store.findUserByEmail = (email) => {
    counter.calls++;
    return original(email);
  };
  return counter;
}

const rateLimited = (reply: Reply) => {
  expect(reply.status).toBe(429);
  expect(reply.body).toMatchObject({ status: 429, error: { code: 'rate_limited' } });
  expect(Number(reply.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(reply.retryAfter)).toBeLessThanOrEqual(60);
};

describe('login and register throttles', () => {
  it('per IP: over budget is 429 + Retry-After before the store or scrypt is touched; another IP is unaffected', async () => {
    const hub = await startHub({ authRatePerIp: 3, authRatePerAccount: 1000 });
    const lookups = countLookups(hub);
    for (let i = 0; i < 3; i++) {
      expect((await postFrom(hub, '/user/login', { email: freshEmail(), password: 'wrong password' })).status).toBe(400);
    }
    expect(lookups.calls).toBe(3);
    rateLimited(await postFrom(hub, '/user/login', { email: freshEmail(), password: 'wrong password' }));
    // A malformed body is refused by the IP budget too: it is spent before parsing.
    rateLimited(await postFrom(hub, '/user/login', 'not credentials'));
    const refusedRegister = await postFrom(hub, '/user/register', { email: 'blocked@example.com', password: 'correct horse' });
    rateLimited(refusedRegister);
    expect(lookups.calls).toBe(3);
    expect(await hub.store.findUserByEmail('blocked@example.com')).toBeNull();

    const email = freshEmail();
    expect((await postFrom(hub, '/user/register', { email, password: 'correct horse' }, OTHER_IP)).status).toBe(201);
    const login = await postFrom(hub, '/user/login', { email, password: 'correct horse' }, OTHER_IP);
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ token: expect.any(String) });
  });

  it('per account: wrong passwords from any IP lock that email only; a successful login resets it', async () => {
    const hub = await startHub({ authRatePerIp: 1000, authRatePerAccount: 3 });
    const victim = freshEmail();
    const bystander = freshEmail();
    expect((await postFrom(hub, '/user/register', { email: victim, password: 'correct horse' })).status).toBe(201);
    expect((await postFrom(hub, '/user/register', { email: bystander, password: 'battery staple' })).status).toBe(201);

    // Register spent one of the victim's 3; one wrong attempt, then the right one resets the count.
    expect((await postFrom(hub, '/user/login', { email: victim, password: 'wrong password' })).status).toBe(400);
    expect((await postFrom(hub, '/user/login', { email: victim, password: 'correct horse' })).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const from = i % 2 === 0 ? '127.0.0.1' : OTHER_IP;
      expect((await postFrom(hub, '/user/login', { email: victim.toUpperCase(), password: 'wrong password' }, from)).status).toBe(400);
    }
    const lookups = countLookups(hub);
    rateLimited(await postFrom(hub, '/user/login', { email: victim, password: 'correct horse' }, OTHER_IP));
    rateLimited(await postFrom(hub, '/user/register', { email: victim, password: 'correct horse' }));
    expect(lookups.calls).toBe(0);

    expect((await postFrom(hub, '/user/login', { email: bystander, password: 'battery staple' })).status).toBe(200);
  });

  it('budgets of 0 turn the throttles off', async () => {
    const hub = await startHub({ authRatePerIp: 0, authRatePerAccount: 0 });
    const email = freshEmail();
    for (let i = 0; i < 40; i++) expect((await postFrom(hub, '/user/login', { email, password: 'wrong password' })).status).toBe(400);
  });
});

describe('frame rate', () => {
  // 1 frame/s sustained: a refill takes a whole second, far longer than these bursts take to send.
  it('drops frames over the budget with rate_limited, then closes with 4029; other sockets keep working', async () => {
    const hub = await startHub({ frameRate: 1, frameBurst: 5 });
    const noisy = await connect(hub);
    const quiet = await connect(hub);
    for (let i = 0; i < 5; i++) noisy.send({ type: 'ping', uid: `p${i}` });
    noisy.send({ type: 'ping', uid: 'over' });
    for (let i = 0; i < 5; i++) expect(await noisy.next()).toEqual({ type: 'pong', uid: `p${i}` });
    expect(await noisy.next()).toEqual({ type: 'error', error: { code: 'rate_limited', message: expect.any(String) } });
    expect(await quiet.request({ type: 'ping' })).toMatchObject({ type: 'pong' });

    // 49 more refusals reach the grace (50 in a row); none of the dropped pings is answered.
    for (let i = 0; i < 60; i++) noisy.send({ type: 'ping', uid: `flood${i}` });
    expect(await noisy.closed).toEqual({ code: 4029, reason: 'frame rate limit exceeded' });
    const received = noisy.pending();
    expect(received).toHaveLength(48);
    expect(received.every((f: Frame) => (f.error as { code?: string } | undefined)?.code === 'rate_limited')).toBe(true);
    expect(hub.hub.counts().clients).toBe(1);
    expect(await quiet.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
  });

  it('frameRate 0 turns the budget off', async () => {
    const hub = await startHub({ frameRate: 0, frameBurst: 1 });
    const client = await connect(hub);
    for (let i = 0; i < 600; i++) client.send({ type: 'ping', uid: `p${i}` });
    for (let i = 0; i < 600; i++) expect(await client.next()).toEqual({ type: 'pong', uid: `p${i}` });
  });
});

/** The status and JSON body of a refused upgrade (or 101 and null when it succeeds, then closed). */
function upgrade(hub: RunningHub, options: WebSocket.ClientOptions = {}): Promise<{ status: number; body: Reply['body'] | null; client: WebSocket | null }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(hub), options);
    ws.once('open', () => resolve({ status: 101, body: null, client: ws }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Reply['body'], client: null }));
    });
  });
}

const opened: WebSocket[] = [];
afterEach(async () => {
  await Promise.all(
    opened.splice(0).map((ws) => {
      if (ws.readyState === WebSocket.CLOSED) return undefined;
      const closed = new Promise((resolve) => ws.once('close', resolve));
      ws.close();
      return closed;
    }),
  );
});

async function open(hub: RunningHub, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const result = await upgrade(hub, options);
  expect(result.status).toBe(101);
  opened.push(result.client as WebSocket);
  return result.client as WebSocket;
}

describe('connection caps', () => {
  it('over maxConnections an upgrade gets 503 server_full; a slot freed by a close is usable again', async () => {
    const hub = await startHub({ maxConnections: 2, maxConnectionsPerIp: 0 });
    await open(hub);
    const second = await connect(hub);
    const refused = await upgrade(hub, { localAddress: OTHER_IP });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ status: 503, error: { code: 'server_full', message: expect.stringContaining('2 connections') } });
    expect(await second.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    const health = (await (await fetch(`${hub.url}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ clients: 2, max_connections: 2, accepting: true });

    await second.close();
    await open(hub, { localAddress: OTHER_IP });
  });

  it('over maxConnectionsPerIp an upgrade gets 429 too_many_connections; another IP still connects', async () => {
    const hub = await startHub({ maxConnectionsPerIp: 2 });
    const first = await connect(hub);
    await open(hub);
    const refused = await upgrade(hub);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ status: 429, error: { code: 'too_many_connections' } });
    await open(hub, { localAddress: OTHER_IP });
    expect(await first.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await first.close();
    await open(hub);
  });

  it('maxConnections 0 and maxConnectionsPerIp 0 mean no cap', async () => {
    const hub = await startHub({ maxConnections: 0, maxConnectionsPerIp: 0 });
    for (let i = 0; i < 5; i++) await open(hub);
    const health = (await (await fetch(`${hub.url}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ clients: 5, max_connections: 0 });
  });

  it('by default the cap is derived from the open-file limit', async () => {
    const hub = await startHub();
    const health = (await (await fetch(`${hub.url}/healthz`)).json()) as { max_connections: number };
    expect(health.max_connections).toBeGreaterThan(0);
    expect(health.max_connections).toBeLessThan(20_000);
  });
});

describe('allowed origins', () => {
  it('an unlisted Origin gets 403 origin_not_allowed; a listed one and none at all are let in', async () => {
    const hub = await startHub({ allowedOrigins: 'https://app.example, https://admin.example' });
    const refused = await upgrade(hub, { origin: 'https://evil.example' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ status: 403, error: { code: 'origin_not_allowed' } });
    await open(hub, { origin: 'https://admin.example' });
    const plain = await TestClient.connect(wsUrl(hub));
    expect(await plain.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await plain.close();
  });

  it('with no list every Origin is let in', async () => {
    const hub = await startHub();
    await open(hub, { origin: 'https://anything.example' });
  });
});
