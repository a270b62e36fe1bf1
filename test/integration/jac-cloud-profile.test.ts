/**
 * The jac-cloud profile beyond the conformance suite: REST on every method in `methods`, the
 * `/walker/:name/:node` form, `auth:false` ignoring tokens, explicit flags over profile defaults,
 * and root-id aliases in walker notifications.
 */
import { z } from 'zod';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { defineWalker } from '../../src/walkers/define.js';
import type { RunningHub } from '../../src/node.js';
import { closeClients, connect, signToken, startHub, stopAll, walkersFrom } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

const walkers = walkersFrom({
  echo: defineWalker({
    input: z.looseObject({}),
    methods: ['get', 'put', 'delete', 'websocket'],
    run: (ctx, input) => ({ via: ctx.via, node: ctx.node, input }),
  }),
  open: defineWalker({ auth: false, methods: ['post'], run: (ctx) => ctx.root_id }),
  notify_alias: defineWalker({
    input: z.object({ hex: z.string() }),
    auth: false,
    methods: ['post'],
    run: (ctx, { hex }) => ctx.notifyUsers([`n:Root:${hex}`], { type: 'chat', data: hex }),
  }),
});

async function call(hub: RunningHub, method: string, path: string, init: { token?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers['Authorization'] = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${hub.url}${path}`, { method, headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('jac-cloud profile: REST', () => {
  it('serves each method in `methods` on /walker/{name} and /walker/{name}/{node}; others are 405', async () => {
    const hub = await startHub({ protocol: 'jac-cloud' }, { walkers });
    const { token } = await signToken();
    expect(await call(hub, 'GET', '/walker/echo?a=1', { token })).toEqual({ status: 200, body: { status: 200, reports: [{ via: 'get', node: null, input: { a: '1' } }] } });
    expect(await call(hub, 'PUT', '/walker/echo/n::abc', { token, body: { b: 2 } })).toEqual({ status: 200, body: { status: 200, reports: [{ via: 'put', node: 'n::abc', input: { b: 2 } }] } });
    expect((await call(hub, 'DELETE', '/walker/echo', { token })).status).toBe(200);
    expect(await call(hub, 'POST', '/walker/echo', { token, body: {} })).toEqual({ status: 405, body: { detail: 'Method Not Allowed' } });
    expect(await call(hub, 'PATCH', '/walker/nope', { token, body: {} })).toEqual({ status: 404, body: { detail: 'Not Found' } });
  });

  it('auth:false walkers ignore any token, good or bad', async () => {
    const hub = await startHub({ protocol: 'jac-cloud' }, { walkers });
    const { token } = await signToken();
    const publicRoot = { status: 200, body: { status: 200, reports: ['n::000000000000000000000001'] } };
    expect(await call(hub, 'POST', '/walker/open', { token: 'not.a.token', body: {} })).toEqual(publicRoot);
    expect(await call(hub, 'POST', '/walker/open', { token, body: {} })).toEqual(publicRoot);
  });

  it('the native profile keeps POST /walker/{name} only (other methods 405) and verifies a token on auth:false walkers', async () => {
    const hub = await startHub({}, { walkers });
    const { token } = await signToken();
    expect((await call(hub, 'GET', '/walker/echo', { token })).status).toBe(405);
    expect((await call(hub, 'POST', '/walker/open', { token: 'not.a.token', body: {} })).status).toBe(401);
  });
});

describe('jac-cloud profile: WebSocket', () => {
  it('an explicitly set frame limit wins over the profile default', async () => {
    const hub = await startHub({ protocol: 'jac-cloud', maxPayloadBytes: 4096 }, { walkers });
    const a = await connect(hub);
    a.send(JSON.stringify({ type: 'connection', pad: 'x'.repeat(6000) }));
    expect((await a.closed).code).toBe(1009);
  });

  it('a walker notifying n:Root:<hex> reaches the sockets of n::<hex>', async () => {
    const hub = await startHub({ protocol: 'jac-cloud' }, { walkers });
    const hex = 'ab12cd34ef56ab12cd34ef56';
    const { token } = await signToken({ root_id: `n:Root:${hex}` });
    const b = await connect(hub, { token });
    expect(b.info.root_id).toBe(`n::${hex}`);
    expect((await call(hub, 'POST', '/walker/notify_alias', { body: { hex } })).status).toBe(200);
    expect(await b.next('chat')).toEqual({ type: 'chat', data: hex });
  });
});
