/**
 * Custom walkers (defineWalker + walkersFrom): the context they get, auth and methods, reports,
 * and how failures, timeouts, bad input and the in-flight limit are reported over WS and REST.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineWalker, walkerError, z } from '../../src/index.js';
import type { RunningHub } from '../../src/node.js';
import { closeClients, connect, post, signToken, startHub, stopAll, walkersFrom, type Frame, type TestClient } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

const PUBLIC_ROOT = 'n::000000000000000000000001';
const SECRET_MESSAGE = 'secret detail: db password is hunter2';

/** ctx fields that are plain data, as a walker sees them. */
const describeCtx = defineWalker({
  input: z.object({}),
  methods: ['websocket', 'post'],
  run: (ctx) => ({ via: ctx.via, root_id: ctx.root_id, user: ctx.user, client_id: ctx.client_id, channel_id: ctx.channel_id, node: ctx.node, aborted: ctx.signal.aborted }),
});

const abortedSignals: AbortSignal[] = [];
let hangStarted = makeGate();
let gate: { promise: Promise<void>; release: () => void } = makeGate();
function makeGate() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

const walkers = walkersFrom({
  describe_ctx: describeCtx,
  open_walker: defineWalker({ input: z.object({}), auth: false, methods: ['websocket', 'post'], run: (ctx) => `hello ${ctx.root_id}` }),
  ws_only: defineWalker({ input: z.object({}), methods: ['websocket'], run: () => 'ws' }),
  post_only: defineWalker({ input: z.object({}), run: () => 'post' }),
  reports_then_returns: defineWalker({
    input: z.object({}),
    methods: ['websocket', 'post'],
    run(ctx) {
      ctx.report('first');
      ctx.report({ second: 2 });
      return 'returned';
    },
  }),
  async_walker: defineWalker({
    input: z.object({ n: z.number() }),
    auth: false,
    methods: ['websocket', 'post'],
    async run(ctx, { n }) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      ctx.report(n);
      await Promise.resolve();
      return n * 2;
    },
  }),
  taken: defineWalker({ input: z.object({}), auth: false, methods: ['websocket', 'post'], run: () => { throw walkerError(409, 'taken'); } }),
  crashes: defineWalker({
    input: z.object({}),
    auth: false,
    methods: ['websocket', 'post'],
    run: () => { throw new Error(SECRET_MESSAGE); },
  }),
  hangs: defineWalker({
    input: z.object({}),
    auth: false,
    methods: ['websocket', 'post'],
    async run(ctx) {
      abortedSignals.push(ctx.signal);
      hangStarted.release();
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
      return 'too late';
    },
  }),
  strict_input: defineWalker({
    input: z.object({ name: z.string(), nested: z.object({ count: z.number().int() }) }),
    auth: false,
    methods: ['websocket', 'post'],
    run: (_ctx, input) => input.name,
  }),
  blocked: defineWalker({
    input: z.object({ i: z.number() }),
    auth: false,
    methods: ['websocket'],
    async run(_ctx, { i }) {
      await gate.promise;
      return i;
    },
  }),
});

let hub: RunningHub;
beforeAll(async () => {
  hub = await startHub({ maxInflightWalkers: 2 }, { walkers });
});

/** Sends a walker frame (with a uid) and resolves with the reply, uid stripped. */
async function callWs(c: TestClient, walker: string, context: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<Frame> {
  const { uid, ...rest } = await c.request({ type: 'walker', walker, context, response: true, ...extra });
  expect(typeof uid).toBe('string');
  return rest;
}

describe('ctx fields', () => {
  it('over WebSocket: via, root_id, user, client_id, channel_id and node from the frame', async () => {
    const { token, rootId, userId } = await signToken({ role: 'admin' });
    const c = await connect(hub, { token, query: '?channel_id=ctx-room' });
    const reply = await callWs(c, 'describe_ctx', {}, { node: 'n::abc' });
    expect(reply).toEqual({
      type: 'walker',
      walker: 'describe_ctx',
      status: 200,
      reports: [{
        via: 'websocket',
        root_id: rootId,
        user: { id: userId, root_id: rootId, email: null, claims: expect.objectContaining({ sub: userId, root_id: rootId, role: 'admin' }) },
        client_id: c.info.client_id,
        channel_id: 'ctx-room',
        node: 'n::abc',
        aborted: false,
      }],
    });
    const withoutNode = await callWs(c, 'describe_ctx');
    expect((withoutNode['reports'] as Array<Record<string, unknown>>)[0]).toMatchObject({ node: null });
  });

  it('over REST: via post, client_id and channel_id null', async () => {
    const { token, rootId, userId } = await signToken();
    const res = await post(hub, '/walker/describe_ctx', {}, { token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 200,
      reports: [{
        via: 'post',
        root_id: rootId,
        user: { id: userId, root_id: rootId, email: null, claims: expect.objectContaining({ sub: userId, root_id: rootId }) },
        client_id: null,
        channel_id: null,
        node: null,
        aborted: false,
      }],
    });
  });
});

describe('auth and methods', () => {
  it('an auth:false walker is callable by public callers (WS and REST)', async () => {
    const pub = await connect(hub);
    expect(await callWs(pub, 'open_walker')).toEqual({ type: 'walker', walker: 'open_walker', status: 200, reports: [`hello ${PUBLIC_ROOT}`] });
    const res = await post(hub, '/walker/open_walker', {});
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { status: 200, reports: [`hello ${PUBLIC_ROOT}`] } });
  });

  it("methods:['websocket'] → REST 405; methods:['post'] → WS walker frame 405", async () => {
    const { token } = await signToken();
    const res = await post(hub, '/walker/ws_only', {}, { token });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 405,
      body: { status: 405, error: { code: 'method_not_allowed', message: 'Walker ws_only is not open to POST' } },
    });
    const c = await connect(hub, { token });
    expect(await callWs(c, 'ws_only')).toEqual({ type: 'walker', walker: 'ws_only', status: 200, reports: ['ws'] });
    expect(await callWs(c, 'post_only')).toEqual({
      type: 'walker', walker: 'post_only', status: 405, error: { code: 'method_not_allowed', message: 'Walker post_only is not open to WebSocket' },
    });
    expect((await post(hub, '/walker/post_only', {}, { token })).body).toEqual({ status: 200, reports: ['post'] });
  });
});

describe('reports', () => {
  it('a returned value is appended after the ctx.report values (WS and REST)', async () => {
    const { token } = await signToken();
    const c = await connect(hub, { token });
    const reports = ['first', { second: 2 }, 'returned'];
    expect(await callWs(c, 'reports_then_returns')).toEqual({ type: 'walker', walker: 'reports_then_returns', status: 200, reports });
    expect((await post(hub, '/walker/reports_then_returns', {}, { token })).body).toEqual({ status: 200, reports });
  });

  it('an async walker is awaited (WS and REST)', async () => {
    const c = await connect(hub);
    expect(await callWs(c, 'async_walker', { n: 21 })).toEqual({ type: 'walker', walker: 'async_walker', status: 200, reports: [21, 42] });
    expect((await post(hub, '/walker/async_walker', { n: 5 })).body).toEqual({ status: 200, reports: [5, 10] });
  });
});

describe('failures', () => {
  it("walkerError(409, 'taken') → 409 walker_failed 'taken' (WS and REST)", async () => {
    const c = await connect(hub);
    const error = { code: 'walker_failed', message: 'taken' };
    expect(await callWs(c, 'taken')).toEqual({ type: 'walker', walker: 'taken', status: 409, error });
    const res = await post(hub, '/walker/taken', {});
    expect({ status: res.status, body: res.body }).toEqual({ status: 409, body: { status: 409, error } });
  });

  it('a plain Error → 500 internal with an error_id, no message or stack leaked (WS and REST)', async () => {
    const c = await connect(hub);
    const expectInternal = (error: unknown) => {
      expect(error).toEqual({ code: 'internal', message: expect.any(String), error_id: expect.stringMatching(/^\S{6,}$/) });
      const text = JSON.stringify(error);
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain('secret detail');
      expect(text).not.toMatch(/\bat .*:\d+:\d+/);
      expect(text).not.toContain('stack');
    };
    const reply = await callWs(c, 'crashes');
    expect(reply).toMatchObject({ type: 'walker', walker: 'crashes', status: 500 });
    expect(Object.keys(reply).sort()).toEqual(['error', 'status', 'type', 'walker']);
    expectInternal(reply['error']);
    const res = await post(hub, '/walker/crashes', {});
    expect(res.status).toBe(500);
    expect(Object.keys(res.body).sort()).toEqual(['error', 'status']);
    expect(res.body['status']).toBe(500);
    expectInternal(res.body['error']);
    const wsId = (reply['error'] as Record<string, unknown>)['error_id'];
    expect((res.body['error'] as Record<string, unknown>)['error_id']).not.toBe(wsId);
  });

  it('walkerTimeoutMs: a walker that waits for ctx.signal → 504 walker_timeout, and its signal is aborted (WS and REST)', async () => {
    abortedSignals.length = 0;
    const hub = await startHub({ walkerTimeoutMs: 50 }, { walkers });
    const c = await connect(hub);
    const error = { code: 'walker_timeout', message: 'Walker did not finish within 50 ms' };
    expect(await callWs(c, 'hangs')).toEqual({ type: 'walker', walker: 'hangs', status: 504, error });
    const res = await post(hub, '/walker/hangs', {});
    expect({ status: res.status, body: res.body }).toEqual({ status: 504, body: { status: 504, error } });
    expect(abortedSignals).toHaveLength(2);
    for (const s of abortedSignals) expect(s.aborted).toBe(true);
    // The late 'too late' result of the timed-out walker is never sent.
    await c.sync();
    expect(c.pending('walker')).toEqual([]);
  });

  it('ctx.signal is aborted when the calling socket closes', async () => {
    abortedSignals.length = 0;
    hangStarted = makeGate();
    const c = await connect(hub);
    c.send({ type: 'walker', walker: 'hangs', context: {}, response: true });
    await hangStarted.promise;
    const signal = abortedSignals[0] as AbortSignal;
    expect(signal.aborted).toBe(false);
    await c.close();
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    expect(signal.aborted).toBe(true);
  });

  it('invalid input → 422 invalid_input with issues naming each path (WS and REST)', async () => {
    const c = await connect(hub);
    const bad = { name: 7, nested: { count: 'x' } };
    const expectIssues = (error: unknown) => {
      expect(error).toMatchObject({ code: 'invalid_input', message: 'Input does not match the walker schema' });
      const issues = (error as { issues: Array<{ path: string; message: string }> }).issues;
      expect(issues.map((i) => i.path).sort()).toEqual(['name', 'nested.count']);
      for (const i of issues) expect(i.message).toEqual(expect.any(String));
    };
    const reply = await callWs(c, 'strict_input', bad);
    expect(reply).toMatchObject({ type: 'walker', walker: 'strict_input', status: 422 });
    expectIssues(reply['error']);
    const res = await post(hub, '/walker/strict_input', bad);
    expect(res.status).toBe(422);
    expect(res.body['status']).toBe(422);
    expectIssues(res.body['error']);
    const missing = await callWs(c, 'strict_input', {});
    expect((missing['error'] as { issues: Array<{ path: string }> }).issues.map((i) => i.path).sort()).toEqual(['name', 'nested']);
  });

  it('maxInflightWalkers: 2 → the third concurrent walker gets 429 too_many_requests', async () => {
    gate = makeGate();
    const c = await connect(hub);
    c.send({ type: 'walker', walker: 'blocked', context: { i: 1 }, response: true, uid: 'b1' });
    c.send({ type: 'walker', walker: 'blocked', context: { i: 2 }, response: true, uid: 'b2' });
    expect(await c.request({ type: 'walker', walker: 'blocked', context: { i: 3 }, response: true })).toMatchObject({
      type: 'walker',
      walker: 'blocked',
      status: 429,
      error: { code: 'too_many_requests', message: 'At most 2 walkers may run at once per connection' },
    });
    // Another connection has its own budget.
    const other = await connect(hub);
    other.send({ type: 'walker', walker: 'blocked', context: { i: 4 }, response: true, uid: 'b4' });
    gate.release();
    expect(await c.next((f) => f.uid === 'b1')).toEqual({ type: 'walker', walker: 'blocked', status: 200, reports: [1], uid: 'b1' });
    expect(await c.next((f) => f.uid === 'b2')).toEqual({ type: 'walker', walker: 'blocked', status: 200, reports: [2], uid: 'b2' });
    expect(await other.next((f) => f.uid === 'b4')).toEqual({ type: 'walker', walker: 'blocked', status: 200, reports: [4], uid: 'b4' });
    // Slots are freed once the walkers finish.
    expect(await callWs(c, 'blocked', { i: 5 })).toEqual({ type: 'walker', walker: 'blocked', status: 200, reports: [5] });
  });

  it('failures are reported even without response:true; successes are not', async () => {
    const pub = await connect(hub);
    pub.send({ type: 'walker', walker: 'open_walker', context: {}, uid: 'quiet-ok' });
    pub.send({ type: 'walker', walker: 'taken', context: {}, uid: 'f1' });
    pub.send({ type: 'walker', walker: 'describe_ctx', context: {}, uid: 'f2' });
    pub.send({ type: 'walker', walker: 'strict_input', context: {}, response: false, uid: 'f3' });
    pub.send({ type: 'walker', walker: 'crashes', context: {}, uid: 'f4' });
    expect(await pub.next((f) => f.uid === 'f1')).toEqual({ type: 'walker', walker: 'taken', status: 409, error: { code: 'walker_failed', message: 'taken' }, uid: 'f1' });
    expect(await pub.next((f) => f.uid === 'f2')).toEqual({
      type: 'walker', walker: 'describe_ctx', status: 401, error: { code: 'unauthorized', message: 'This walker requires an authenticated user' }, uid: 'f2',
    });
    expect(await pub.next((f) => f.uid === 'f3')).toMatchObject({ type: 'walker', walker: 'strict_input', status: 422, error: { code: 'invalid_input' } });
    expect(await pub.next((f) => f.uid === 'f4')).toMatchObject({ type: 'walker', walker: 'crashes', status: 500, error: { code: 'internal' } });
    await pub.sync();
    expect(pub.pending()).toEqual([]);
  });
});
