/**
 * Logs of a real hub: lines carry the connection's `client_id` or the request's `request_id` (also
 * the `X-Request-Id` header of every HTTP response), and a client that keeps causing errors gets
 * every error reply it asks for but cannot flood the log.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { defineWalker, z } from '../../src/index.js';
import { createLogger } from '../../src/log.js';
import { LOG_INTERVAL_MS, type RunningHub } from '../../src/node.js';

/** The log limit these hubs run with (lines per message and window). */
const LOG_LINES_PER_INTERVAL = 20;
import { createStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/store.js';
import { closeClients, connect, post, startHub, stopAll, tempDir, walkersFrom, type Frame } from '../helpers.js';
import { ManualClock } from '../manual-clock.js';

afterEach(closeClients);
afterAll(stopAll);

const walkers = walkersFrom({
  boom: defineWalker({
    input: z.object({}),
    auth: false,
    methods: ['websocket', 'post'],
    run: () => {
      throw new Error('boom: internal detail');
    },
  }),
  fine: defineWalker({ input: z.object({}), auth: false, methods: ['post'], run: () => 'ok' }),
  boom_later: defineWalker({
    input: z.object({}),
    auth: false,
    methods: ['post'],
    run: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error('boom after an await');
    },
  }),
});

type Line = Record<string, unknown> & { msg: string };

async function hubWithLog(extra: { store?: Store } = {}) {
  const lines: Line[] = [];
  const clock = new ManualClock();
  const log = createLogger('debug', 'json', (line) => lines.push(JSON.parse(line) as Line));
  // The abuse limits (frame rate, login throttle) are off here: these tests flood on purpose to
  // measure the log, and limits.test.ts covers the limits themselves.
  const hub = await startHub({ maxBodyBytes: 2048, frameRate: 0, authRatePerIp: 0, authRatePerAccount: 0, logLimit: LOG_LINES_PER_INTERVAL }, { walkers, log, clock, ...extra });
  return { hub, lines, clock, about: (msg: string) => lines.filter((l) => l.msg === msg) };
}

/** Resolves with the first `count` frames of `type` the socket receives from now on. */
function collect(ws: { ws: { on(event: 'message', cb: (data: Buffer) => void): unknown } }, count: number, type: string): Promise<Frame[]> {
  const got: Frame[] = [];
  return new Promise((resolve) => {
    ws.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.type === type && got.push(frame) === count) resolve(got);
    });
  });
}

const errorIdOf = (frame: Frame | Record<string, unknown>) => (frame['error'] as { error_id?: string } | undefined)?.error_id;

describe('walker errors from one client', () => {
  it('10,000 failing calls: every reply has its own error_id, the log gets a bounded number of lines and one summary', async () => {
    const { hub, clock, about } = await hubWithLog();
    const ws = await connect(hub);
    const calls = 10_000;
    const replies = collect(ws, calls, 'walker');
    for (let i = 0; i < calls; i++) ws.send({ type: 'walker', walker: 'boom', uid: `u${i}` });
    const frames = await replies;

    expect(frames.every((f) => f['status'] === 500 && (f['error'] as { code: string }).code === 'internal')).toBe(true);
    const ids = frames.map(errorIdOf);
    expect(new Set(ids).size).toBe(calls);
    expect(ids.every((id) => typeof id === 'string')).toBe(true);

    const logged = about('walker threw');
    expect(logged).toHaveLength(LOG_LINES_PER_INTERVAL);
    // The lines written are the first calls', each with the connection's id and the reply's error_id.
    expect(logged.map((l) => l['error_id'])).toEqual(ids.slice(0, LOG_LINES_PER_INTERVAL));
    expect(logged.every((l) => l['client_id'] === ws.info.client_id && l['walker'] === 'boom')).toBe(true);
    expect(String(logged[0]?.['error'])).toContain('boom: internal detail');

    expect(about(`suppressed ${calls - LOG_LINES_PER_INTERVAL} similar lines`)).toEqual([]);
    clock.advance(LOG_INTERVAL_MS);
    expect(about(`suppressed ${calls - LOG_LINES_PER_INTERVAL} similar lines`)).toEqual([
      expect.objectContaining({ level: 'error', client_id: ws.info.client_id, message: 'walker threw', suppressed: calls - LOG_LINES_PER_INTERVAL }),
    ]);

    // The next window logs again.
    ws.send({ type: 'walker', walker: 'boom', uid: 'after' });
    const after = await ws.next((f) => f.uid === 'after');
    expect(about('walker threw').at(-1)?.['error_id']).toBe(errorIdOf(after));
  });
});

describe('REST request ids', () => {
  it('every response carries a distinct X-Request-Id: 200, 4xx, 404, 405, 413 and health', async () => {
    const { hub } = await hubWithLog();
    const responses = [
      await fetch(`${hub.url}/walker/fine`, { method: 'POST' }),
      await fetch(`${hub.url}/walker/nope`, { method: 'POST' }),
      await fetch(`${hub.url}/walker/fine`, { method: 'POST', body: 'not json', headers: { 'Content-Type': 'application/json' } }),
      await fetch(`${hub.url}/no/such/route`),
      await fetch(`${hub.url}/walker/fine`),
      await fetch(`${hub.url}/walker/fine`, { method: 'POST', body: 'x'.repeat(4096), headers: { 'Content-Type': 'application/json' } }),
      await fetch(`${hub.url}/healthz`),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 404, 400, 404, 405, 413, 200]);
    const ids = responses.map((r) => r.headers.get('x-request-id'));
    for (const id of ids) expect(id).toMatch(/^[\w-]{8}-[0-9a-z]+$/);
    expect(new Set(ids).size).toBe(ids.length);
    await Promise.all(responses.map((r) => r.text()));
  });

  it('a REST line logged after the walker went async still carries the client address (read lazily, settled before the await)', async () => {
    const { hub, about } = await hubWithLog();
    const later = await post(hub, '/walker/boom_later', {});
    expect(later.status).toBe(500);
    expect(about('walker threw')).toEqual([expect.objectContaining({ request_id: later.headers.get('x-request-id'), ip: '127.0.0.1' })]);
  });

  it('a failing REST call is logged with its request id and error id; repeated failures stay bounded', async () => {
    const { hub, clock, about } = await hubWithLog();
    const first = await post(hub, '/walker/boom', {});
    expect(first.status).toBe(500);
    const [line] = about('walker threw');
    expect(line).toMatchObject({ request_id: first.headers.get('x-request-id'), error_id: errorIdOf(first.body), ip: '127.0.0.1' });
    expect(line).not.toHaveProperty('client_id');

    const more = 200;
    const results = [];
    for (let i = 0; i < more; i++) results.push(await post(hub, '/walker/boom', {}));
    expect(results.every((r) => r.status === 500 && typeof errorIdOf(r.body) === 'string')).toBe(true);
    expect(about('walker threw')).toHaveLength(LOG_LINES_PER_INTERVAL);
    clock.advance(LOG_INTERVAL_MS);
    // The summary comes through the last suppressed request's logger.
    expect(about(`suppressed ${more + 1 - LOG_LINES_PER_INTERVAL} similar lines`)).toEqual([
      expect.objectContaining({ request_id: results.at(-1)?.headers.get('x-request-id') }),
    ]);
  });
});

describe('account errors', () => {
  it('a store that keeps failing: each login gets a 500 with an error_id, the log a bounded number of lines', async () => {
    const real = await createStore({ dataDir: tempDir() });
    const failing: Store = new Proxy(real, {
      get: (target, key, receiver) =>
        key === 'findUserByEmail' ? () => Promise.reject(new Error('disk on fire')) : (Reflect.get(target, key, receiver) as unknown),
    });
    try {
      const { hub, about } = await hubWithLog({ store: failing });
      const results = [];
      for (let i = 0; i < 50; i++) results.push(await post(hub, '/user/login', { email: 'a@example.com', password: 'long enough' }));
      expect(results.every((r) => r.status === 500 && typeof errorIdOf(r.body) === 'string')).toBe(true);
      const logged = about('login failed');
      expect(logged).toHaveLength(LOG_LINES_PER_INTERVAL);
      expect(logged[0]).toMatchObject({ request_id: results[0]?.headers.get('x-request-id'), error_id: errorIdOf(results[0]!.body) });
      expect(JSON.stringify(logged)).not.toContain('long enough');
    } finally {
      await stopAll();
      await real.close();
    }
  });
});
