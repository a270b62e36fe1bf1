/** GET /metrics: every metric present, and moving with real traffic (parsed from the exposition text). */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunningHub } from '../../src/node.js';
import { defineWalker } from '../../src/walkers/define.js';
import { createStore } from '../../src/store/index.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { closeClients, connect, post, refusedUpgrade, signToken, startHub, stopAll, tempDir, walkersFrom } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

const KEY = 'metrics-test-key-0123456789';

const walkers = walkersFrom({
  echo: defineWalker({ auth: false, methods: ['websocket', 'post'], input: z.object({ n: z.number() }), run: (_ctx, { n }) => n }),
});

/** `name{labels}` -> value, for every sample line of the Prometheus text format. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

const value = (m: Map<string, number>, key: string) => m.get(key) ?? 0;

describe('GET /metrics', () => {
  it('lists every metric, and each moves with traffic', async () => {
    const hub: RunningHub = await startHub({ apiKeys: KEY, frameRate: 1, frameBurst: 3, maxPayloadBytes: 1024 }, { walkers });
    const before = await scrape(hub.url);
    for (const name of [
      'walker_hub_connections{auth="authenticated"}',
      'walker_hub_connections{auth="public"}',
      'walker_hub_ready',
      'walker_hub_broker_up',
      'walker_hub_store_up',
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'process_resident_memory_bytes',
    ]) {
      expect(before.has(name), name).toBe(true);
    }
    expect(value(before, 'walker_hub_ready')).toBe(1);
    expect(value(before, 'walker_hub_broker_up')).toBe(1);
    expect(value(before, 'walker_hub_store_up')).toBe(1);
    expect(value(before, 'walker_hub_connections{auth="public"}')).toBe(0);

    const { token, rootId } = await signToken();
    const member = await connect(hub, { token, query: '?channel_id=room' });
    const noisy = await connect(hub, { query: '?channel_id=room' });
    const doomed = await connect(hub);
    const limited = await connect(hub);
    const during = await scrape(hub.url);
    expect(value(during, 'walker_hub_connections{auth="authenticated"}')).toBe(1);
    expect(value(during, 'walker_hub_connections{auth="public"}')).toBe(3);

    // Frames: a ping, bad JSON, a walker call (within noisy's burst of 3).
    noisy.send({ type: 'ping' });
    await noisy.next('pong');
    noisy.send('{not json');
    expect((await noisy.next('error'))['error']).toMatchObject({ code: 'invalid_json' });
    expect(await noisy.request({ type: 'walker', walker: 'echo', context: { n: 7 }, response: true })).toMatchObject({ status: 200, reports: [7] });
    // Four pings in one go: the budget (burst 3, 1/s) refuses the fourth.
    for (let i = 0; i < 4; i++) limited.send({ type: 'ping' });
    for (let i = 0; i < 3; i++) await limited.next('pong');
    expect((await limited.next('error'))['error']).toMatchObject({ code: 'rate_limited' });
    // A failed walker call over WebSocket is an error too (a `walker` frame carrying the error).
    expect(await member.request({ type: 'walker', walker: 'echo', context: { n: 'x' } })).toMatchObject({ status: 422, error: { code: 'invalid_input' } });
    // A frame over maxPayloadBytes: the hub closes with 1009 (counted before the client sees it).
    doomed.send('x'.repeat(2048));
    expect((await doomed.closed).code).toBe(1009);

    expect((await post(hub, '/walker/echo', { n: 1 })).status).toBe(200);
    expect((await post(hub, '/walker/echo', { n: 'one' })).status).toBe(422);
    expect((await post(hub, '/api/notify', { channels: ['room'], data: { type: 'x' } }, { headers: { 'X-API-Key': KEY } })).status).toBe(202);
    await member.next('x');
    await noisy.next('x');
    expect((await post(hub, '/api/notify', { users: [rootId], data: 1 }, { headers: { 'X-API-Key': 'not-the-key-0123456789' } })).status).toBe(401);

    const after = await scrape(hub.url);
    const moved = (key: string) => value(after, key) - value(before, key);
    expect(moved('walker_hub_connects_total')).toBe(4);
    expect(moved('walker_hub_disconnects_total{code="1009"}')).toBe(1);
    expect(moved('walker_hub_frames_in_total{type="ping"}')).toBe(4);
    expect(moved('walker_hub_frames_in_total{type="invalid"}')).toBe(1);
    expect(moved('walker_hub_frames_in_total{type="walker"}')).toBe(2);
    expect(moved('walker_hub_error_frames_total{code="invalid_input"}')).toBe(1);
    expect(moved('walker_hub_walker_calls_total{walker="echo",via="websocket",status="422"}')).toBe(1);
    expect(moved('walker_hub_error_frames_total{code="invalid_json"}')).toBe(1);
    expect(moved('walker_hub_error_frames_total{code="rate_limited"}')).toBe(1);
    expect(moved('walker_hub_rate_limited_total{limit="frame"}')).toBe(1);
    expect(moved('walker_hub_deliveries_total{kind="channels"}')).toBe(2);
    expect(moved('walker_hub_broker_published_total{kind="channels"}')).toBe(1);
    expect(moved('walker_hub_broker_received_total{kind="channels"}')).toBe(1);
    expect(moved('walker_hub_walker_calls_total{walker="echo",via="websocket",status="200"}')).toBe(1);
    expect(moved('walker_hub_walker_calls_total{walker="echo",via="post",status="200"}')).toBe(1);
    expect(moved('walker_hub_walker_calls_total{walker="echo",via="post",status="422"}')).toBe(1);
    expect(moved('walker_hub_walker_duration_seconds_count{walker="echo",via="post"}')).toBe(2);
    expect(moved('walker_hub_walker_duration_seconds_bucket{le="+Inf",walker="echo",via="post"}')).toBe(2);
    expect(moved('walker_hub_http_responses_total{route="/walker/:name",status="200"}')).toBe(1);
    expect(moved('walker_hub_http_responses_total{route="/walker/:name",status="422"}')).toBe(1);
    expect(moved('walker_hub_http_responses_total{route="/api/notify",status="202"}')).toBe(1);
    expect(moved('walker_hub_http_responses_total{route="/api/notify",status="401"}')).toBe(1);
    // The scrapes themselves are responses too.
    expect(moved('walker_hub_http_responses_total{route="/metrics",status="200"}')).toBe(2);
    expect(value(after, 'walker_hub_connections{auth="public"}')).toBe(2);
  });

  it('reports walker_hub_store_up 0 when the store does not answer its ping', async () => {
    const store = await createStore({ dataDir: tempDir() });
    const failing = new Proxy(store, {
      get: (target, key, receiver) => (key === 'ping' ? () => Promise.reject(new StoreUnavailableError('down for the test')) : Reflect.get(target, key, receiver)),
    });
    const hub = await startHub({}, { store: failing });
    try {
      expect(value(await scrape(hub.url), 'walker_hub_store_up')).toBe(0);
    } finally {
      // The hub does not close a store it was given; its folder goes with stopAll().
      await hub.close();
      await store.close();
    }
  });

  it('counts login and register refusals by their budget as rate_limited{limit="auth"}', async () => {
    const hub = await startHub({ authRatePerIp: 1 });
    const creds = { email: 'budget@example.com', password: 'long enough password' };
    expect((await post(hub, '/user/register', creds)).status).toBe(201);
    expect((await post(hub, '/user/login', creds)).status).toBe(429);
    expect(value(await scrape(hub.url), 'walker_hub_rate_limited_total{limit="auth"}')).toBe(1);
  });

  it('counts upgrades refused by a connection cap as rate_limited{limit="connections"}', async () => {
    const hub = await startHub({ maxConnections: 1 });
    await connect(hub);
    expect(await refusedUpgrade(hub, {})).toMatchObject({ status: 503, body: { error: { code: 'server_full' } } });
    const m = await scrape(hub.url);
    expect(value(m, 'walker_hub_rate_limited_total{limit="connections"}')).toBe(1);
    expect(value(m, 'walker_hub_http_responses_total{route="/websocket",status="503"}')).toBe(1);
  });

  it('moves to a port of its own with metricsPort, and is then not on the main port', async () => {
    const hub = await startHub({ metricsPort: 0 });
    expect(hub.metricsPort).toEqual(expect.any(Number));
    expect(hub.metricsPort).not.toBe(hub.port);
    const m = await scrape(`http://127.0.0.1:${hub.metricsPort}`);
    expect(m.has('walker_hub_ready')).toBe(true);
    expect((await fetch(`${hub.url}/metrics`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${hub.metricsPort}/other`)).status).toBe(404);
  });
});
