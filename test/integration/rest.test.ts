/**
 * REST: POST /walker/:name statuses and exact bodies, GET /healthz, and unknown routes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineWalker, z } from '../../src/index.js';
import type { RunningHub } from '../../src/node.js';
import { closeClients, connect, post, signToken, startHub, stopAll, walkersFrom } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

const walkers = walkersFrom({
  echo: defineWalker({ input: z.object({ text: z.string() }), run: (ctx, { text }) => ({ text, root_id: ctx.root_id }) }),
  open_echo: defineWalker({ input: z.object({ text: z.string().optional() }), auth: false, run: (_ctx, input) => input }),
  all_optional: defineWalker({ input: z.object({ a: z.string().optional(), b: z.number().default(3) }), auth: false, run: (_ctx, input) => input }),
  ws_only: defineWalker({ input: z.object({}), auth: false, methods: ['websocket'], run: () => 'ws' }),
  crashes: defineWalker({ input: z.object({}), auth: false, run: () => { throw new Error('boom: internal detail'); } }),
});

let hub: RunningHub;
let token: string;
let rootId: string;
beforeAll(async () => {
  hub = await startHub({ maxBodyBytes: 2048 }, { walkers });
  ({ token, rootId } = await signToken());
});

const err = (status: number, code: string, message: string) => ({ status, body: { status, error: { code, message } } });
const pick = (res: { status: number; body: Record<string, unknown> }) => ({ status: res.status, body: res.body });

async function raw(path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`${hub.url}${path}`, init);
  expect(res.headers.get('content-type')).toBe('application/json');
  return { status: res.status, headers: res.headers, body: JSON.parse(await res.text()) as Record<string, unknown> };
}

describe('POST /walker/:name', () => {
  it('200 with the walker reports', async () => {
    expect(pick(await post(hub, '/walker/echo', { text: 'hi' }, { token }))).toEqual({
      status: 200,
      body: { status: 200, reports: [{ text: 'hi', root_id: rootId }] },
    });
  });

  it('401 invalid_token for a bad token, on an auth walker and on an auth:false walker', async () => {
    const { token: wrongSecret } = await signToken({}, { secret: 'another-secret-that-is-at-least-32-characters' });
    const { token: expired } = await signToken({}, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    // The message wording is the authenticator's; the spec fixes the status and the code.
    const invalid = { status: 401, body: { status: 401, error: { code: 'invalid_token', message: expect.stringMatching(/\S/) } } };
    for (const walker of ['echo', 'open_echo']) {
      for (const bad of [wrongSecret, expired, 'not-a-jwt']) {
        expect(pick(await post(hub, `/walker/${walker}`, { text: 'x' }, { token: bad }))).toEqual(invalid);
      }
    }
    const res = await post(hub, '/walker/open_echo', { text: 'x' }, { token: expired });
    expect((res.body['error'] as { message: string }).message).toMatch(/expired/i);
  });

  it('401 unauthorized for a missing token on an auth walker; auth:false works without one', async () => {
    expect(pick(await post(hub, '/walker/echo', { text: 'x' }))).toEqual(err(401, 'unauthorized', 'This walker requires an authenticated user'));
    expect(pick(await post(hub, '/walker/open_echo', { text: 'x' }))).toEqual({ status: 200, body: { status: 200, reports: [{ text: 'x' }] } });
  });

  it('404 unknown_walker', async () => {
    expect(pick(await post(hub, '/walker/nope', {}, { token }))).toEqual(err(404, 'unknown_walker', 'Unknown walker "nope"'));
  });

  it('405 for a walker not open to POST, and GET /walker/x → 405 with Allow: POST', async () => {
    expect(pick(await post(hub, '/walker/ws_only', {}, { token }))).toEqual(err(405, 'method_not_allowed', 'Walker ws_only is not open to POST'));
    const res = await raw('/walker/echo');
    expect({ status: res.status, body: res.body }).toEqual(err(405, 'method_not_allowed', 'Use POST'));
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('413 for a 4096-byte body over maxBodyBytes 2048 (Content-Length)', async () => {
    const body = JSON.stringify({ text: 'x'.repeat(4096 - 11) });
    expect(Buffer.byteLength(body)).toBe(4096);
    expect(pick(await post(hub, '/walker/open_echo', undefined, { raw: body, headers: { 'Content-Type': 'application/json' } }))).toEqual(
      err(413, 'payload_too_large', 'Body exceeds 2048 bytes'),
    );
  });

  it('413 for a 4096-byte chunked body (no Content-Length)', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ text: 'x'.repeat(4096 - 11) }));
    expect(bytes.byteLength).toBe(4096);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.byteLength; i += 1024) controller.enqueue(bytes.slice(i, i + 1024));
        controller.close();
      },
    });
    const init = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit;
    const res = await raw('/walker/open_echo', init);
    expect({ status: res.status, body: res.body }).toEqual(err(413, 'payload_too_large', 'Body exceeds 2048 bytes'));
  });

  it('a body just under the limit is accepted', async () => {
    const body = JSON.stringify({ text: 'y'.repeat(2000) });
    const res = await post(hub, '/walker/open_echo', undefined, { raw: body, headers: { 'Content-Type': 'application/json' } });
    expect(pick(res)).toEqual({ status: 200, body: { status: 200, reports: [{ text: 'y'.repeat(2000) }] } });
  });

  it('415 for a text/plain body', async () => {
    const res = await post(hub, '/walker/open_echo', undefined, { raw: '{"text":"x"}', headers: { 'Content-Type': 'text/plain' } });
    expect(pick(res)).toEqual(err(415, 'unsupported_media_type', 'Body must be JSON (Content-Type: application/json)'));
  });

  it('400 invalid_json for a malformed JSON body', async () => {
    const res = await post(hub, '/walker/open_echo', undefined, { raw: '{"text":', headers: { 'Content-Type': 'application/json' } });
    expect(pick(res)).toEqual(err(400, 'invalid_json', 'Body is not valid JSON'));
  });

  it('422 invalid_input with issues', async () => {
    const res = await post(hub, '/walker/echo', { text: 5 }, { token });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      status: 422,
      error: { code: 'invalid_input', message: 'Input does not match the walker schema', issues: [{ path: 'text', message: expect.any(String) }] },
    });
  });

  it('500 internal with an error_id and no stack or detail', async () => {
    const res = await post(hub, '/walker/crashes', {});
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ status: 500, error: { code: 'internal', message: expect.any(String), error_id: expect.any(String) } });
    const text = JSON.stringify(res.body);
    expect(text).not.toContain('boom');
    expect(text).not.toContain('internal detail');
    expect(text).not.toMatch(/\bat .*:\d+:\d+/);
  });

  it('an empty body is treated as {} (all-optional schema), with or without a Content-Type', async () => {
    const expected = { status: 200, body: { status: 200, reports: [{ b: 3 }] } };
    expect(pick(await post(hub, '/walker/all_optional'))).toEqual(expected);
    expect(pick(await post(hub, '/walker/all_optional', undefined, { raw: '', headers: { 'Content-Type': 'application/json' } }))).toEqual(expected);
    expect(pick(await post(hub, '/walker/all_optional', undefined, { raw: '', headers: { 'Content-Type': 'text/plain' } }))).toEqual(expected);
  });

  it('accepts application/json; charset=utf-8', async () => {
    const res = await post(hub, '/walker/all_optional', { a: 'é' }, { headers: { 'Content-Type': 'application/json; charset=utf-8' } });
    expect(pick(res)).toEqual({ status: 200, body: { status: 200, reports: [{ a: 'é', b: 3 }] } });
  });
});

describe('other routes', () => {
  it('GET /healthz reports status, uptime, walkers and counts that reflect a connected client', async () => {
    const before = await raw('/healthz');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({ status: 'ok', uptime_s: expect.any(Number), walkers: 5, store: expect.stringMatching(/^lmdb:/), clients: 0, channels: 0, users: 0, broker: { type: 'memory', state: 'local', topics: 0, dropped: 0 }, max_connections: expect.any(Number), accepting: true });
    expect(before.body['uptime_s']).toBeGreaterThanOrEqual(0);
    await connect(hub, { token, query: '?channel_id=health-room' });
    const after = await raw('/healthz');
    expect(after.body).toEqual({ status: 'ok', uptime_s: expect.any(Number), walkers: 5, store: expect.stringMatching(/^lmdb:/), clients: 1, channels: 1, users: 1, broker: { type: 'memory', state: 'local', topics: 0, dropped: 0 }, max_connections: expect.any(Number), accepting: true });
  });

  it('unknown routes → 404 JSON', async () => {
    const get = await raw('/nope');
    expect({ status: get.status, body: get.body }).toEqual(err(404, 'not_found', 'No route for GET /nope'));
    const postRes = await raw('/walker', { method: 'POST' });
    expect({ status: postRes.status, body: postRes.body }).toEqual(err(404, 'not_found', 'No route for POST /walker'));
  });
});
