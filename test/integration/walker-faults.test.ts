/**
 * No walker can take the hub down: every kind of walker mistake (unencodable output, odd throws,
 * rejecting async schemas, hangs) gets the caller an error reply, over REST and over WebSocket,
 * while a bystander socket on the same hub keeps receiving and later calls keep working.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineWalker, walkerError, z } from '../../src/index.js';
import { createLogger } from '../../src/log.js';
import type { RunningHub } from '../../src/node.js';
import { closeClients, connect, post, startHub, stopAll, walkersFrom, wsUrl, TestClient, type Frame } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

const TIMEOUT_MS = 200;
const BYSTANDERS = 'bystanders';
const both = ['websocket', 'post'] as const;

function deeplyNested(levels: number): unknown {
  let value: unknown = { leaf: true };
  for (let i = 0; i < levels; i++) value = { d: value };
  return value;
}
function circular(): unknown {
  const value: Record<string, unknown> = { name: 'loop' };
  value['self'] = value;
  return value;
}
/** What a walker saw when a ctx call threw, reported back so the test can check it came from the call site. */
function caught(call: () => void): string {
  try {
    call();
    return 'did not throw';
  } catch (err) {
    return err instanceof Error ? err.message : 'threw a non-Error';
  }
}

const refinementCalls = { count: 0 };
const never = new Promise<never>(() => {});

const open = { auth: false, methods: both };
const walkers = walkersFrom({
  ok: defineWalker({ ...open, input: z.object({}), run: () => 'ok' }),
  no_input: defineWalker({ ...open, run: (_ctx, input) => input }),
  bigint_result: defineWalker({ ...open, input: z.object({}), run: () => ({ n: 10n }) }),
  bigint_result_async: defineWalker({ ...open, input: z.object({}), run: async () => ({ n: 10n }) }),
  circular_result: defineWalker({ ...open, input: z.object({}), run: () => circular() }),
  deep_result: defineWalker({ ...open, input: z.object({}), run: () => deeplyNested(100_000) }),
  throw_toJSON: defineWalker({ ...open, input: z.object({}), run: () => ({ toJSON: () => { throw Object.create(null); } }) }),
  throws_string: defineWalker({ ...open, input: z.object({}), run: () => { throw 'plain string'; } }),
  throws_null: defineWalker({ ...open, input: z.object({}), run: () => { throw null; } }),
  throws_null_proto: defineWalker({ ...open, input: z.object({}), run: () => { throw Object.create(null); } }),
  malformed_walker_error: defineWalker({
    ...open,
    input: z.object({}),
    run: () => { throw walkerError(400, 'bad', [{ path: 'n', message: 10n as unknown as string }]); },
  }),
  rejects_null_proto: defineWalker({ ...open, input: z.object({}), run: async () => { await Promise.resolve(); throw Object.create(null); } }),
  refine_rejects: defineWalker({
    ...open,
    input: z.object({ name: z.string().refine(async () => { refinementCalls.count++; throw new Error('lookup failed'); }) }),
    run: () => 'unreachable',
  }),
  refine_false: defineWalker({
    ...open,
    input: z.object({ name: z.string().refine(async () => { refinementCalls.count++; return false; }, 'is taken') }),
    run: () => 'unreachable',
  }),
  refine_hangs: defineWalker({ ...open, input: z.object({ name: z.string().refine(() => never) }), run: () => 'unreachable' }),
  // Its abort listeners throw when the timeout aborts ctx.signal: Node would report those as uncaught.
  run_hangs: defineWalker({
    ...open,
    input: z.object({}),
    run(ctx) {
      ctx.signal.addEventListener('abort', () => { throw new Error('abort listener threw'); });
      ctx.signal.onabort = async () => { throw new Error('async onabort rejected'); };
      return never;
    },
  }),
  bad_self: defineWalker({ ...open, input: z.object({}), run: (ctx) => [caught(() => ctx.self(10n)), caught(() => ctx.self(undefined))] }),
  bad_notify: defineWalker({
    ...open,
    input: z.object({}),
    run: (ctx) => [
      caught(() => ctx.notifyUsers([ctx.root_id], 10n)),
      caught(() => ctx.notifyChannels([BYSTANDERS], circular())),
      caught(() => ctx.notifyClients(['someone'], undefined)),
    ],
  }),
  bad_report: defineWalker({
    ...open,
    input: z.object({}),
    async run(ctx) {
      await Promise.resolve();
      ctx.report('kept');
      return [caught(() => ctx.report(10n)), caught(() => ctx.report(deeplyNested(100_000)))];
    },
  }),
});

const logLines: string[] = [];
let hub: RunningHub;
let bystander: TestClient;
let seq = 0;

beforeAll(async () => {
  hub = await startHub(
    // logLimit 0: every error_id must reach the log here (logs.test.ts covers the limit itself).
    { walkerTimeoutMs: TIMEOUT_MS, maxInflightWalkers: 1, peerEvents: 'public', logLimit: 0 },
    { walkers, log: createLogger('error', 'json', (line) => logLines.push(line)) },
  );
});

type Transport = 'websocket' | 'post';
const transports: Transport[] = ['websocket', 'post'];

/** Calls a walker; answers as { status, body } whichever transport carried it. */
async function call(via: Transport, walker: string, input: Record<string, unknown> = {}): Promise<{ status: number; body: Frame }> {
  if (via === 'post') {
    const { status, body } = await post(hub, `/walker/${walker}`, input);
    return { status, body };
  }
  const caller = await connect(hub);
  const { uid: _uid, type, walker: name, ...body } = await caller.request({ type: 'walker', walker, context: input, response: true });
  expect({ type, name }).toEqual({ type: 'walker', name: walker });
  return { status: body['status'] as number, body };
}

/**
 * After a fault: a channel message sent now is the very next frame the bystander gets (nothing
 * garbled arrived before it), and a normal call on the same transport still succeeds.
 */
async function expectHubUnharmed(via: Transport): Promise<void> {
  const sender = await connect(hub);
  const data = { after_fault: ++seq };
  expect(await sender.request({ type: 'channel', channel_ids: [BYSTANDERS], data })).toMatchObject({ type: 'ack' });
  expect(await bystander.next()).toEqual(data);
  expect(await call(via, 'ok')).toEqual({ status: 200, body: { status: 200, reports: ['ok'] } });
}

/** A 500 with an error id that is in the log, beside what was thrown; nothing of it in the reply. */
function expectInternal(reply: { status: number; body: Frame }, logged: RegExp): void {
  expect(reply.status).toBe(500);
  expect(reply.body).toEqual({ status: 500, error: { code: 'internal', message: expect.stringMatching(/quote error id/), error_id: expect.stringMatching(/^\S{6,}$/) } });
  const errorId = (reply.body['error'] as { error_id: string }).error_id;
  const line = logLines.find((l) => l.includes(errorId));
  expect(line).toBeDefined();
  expect(JSON.parse(line as string)).toMatchObject({ level: 'error', error_id: errorId, error: expect.stringMatching(logged) });
}

// Not opened with connect(), so closeClients() after each test leaves it: it watches every test.
beforeAll(async () => {
  bystander = await TestClient.connect(wsUrl(hub));
  expect(await bystander.request({ type: 'subscribe', channel_ids: [BYSTANDERS] })).toMatchObject({ type: 'subscribed' });
});
afterAll(() => bystander.close());

describe.each(transports)('over %s', (via) => {
  it.each([
    ['a BigInt', 'bigint_result', /walker result: value cannot be encoded as JSON: Do not know how to serialize a BigInt/],
    ['a BigInt, from an async walker', 'bigint_result_async', /walker result: value cannot be encoded as JSON: Do not know how to serialize a BigInt/],
    ['a circular object', 'circular_result', /walker result: value cannot be encoded as JSON: Converting circular structure/],
    ['100,000 levels of nesting', 'deep_result', /walker result: value cannot be encoded as JSON: .*nested too deeply/],
    ['a toJSON that throws a prototype-less object', 'throw_toJSON', /walker result: value cannot be encoded as JSON: toJSON threw a non-Error value/],
  ])('a result holding %s → 500 internal with an error_id', async (_what, walker, logged) => {
    expectInternal(await call(via, walker), logged);
    await expectHubUnharmed(via);
  });

  it.each([
    ['a string', 'throws_string', /non-Error thrown: plain string/],
    ['null', 'throws_null', /non-Error thrown: null/],
    ['Object.create(null) (String() of it throws)', 'throws_null_proto', /non-Error thrown: \[Object: null prototype\] \{\}/],
    ['Object.create(null) as an async rejection', 'rejects_null_proto', /non-Error thrown: \[Object: null prototype\] \{\}/],
    ['a walkerError whose issues hold a BigInt', 'malformed_walker_error', /walker threw a malformed HubError/],
  ])('throwing %s → 500 internal with an error_id', async (_what, walker, logged) => {
    expectInternal(await call(via, walker), logged);
    await expectHubUnharmed(via);
  });

  it('an async refinement that rejects → 500 internal, and it ran once', async () => {
    refinementCalls.count = 0;
    expectInternal(await call(via, 'refine_rejects', { name: 'x' }), /Error: lookup failed/);
    expect(refinementCalls.count).toBe(1);
    await expectHubUnharmed(via);
  });

  it('an async refinement that resolves false → 422 invalid_input, and it ran once', async () => {
    refinementCalls.count = 0;
    expect(await call(via, 'refine_false', { name: 'x' })).toEqual({
      status: 422,
      body: { status: 422, error: { code: 'invalid_input', message: 'Input does not match the walker schema', issues: [{ path: 'name', message: 'is taken' }] } },
    });
    expect(refinementCalls.count).toBe(1);
    await expectHubUnharmed(via);
  });

  const timedOut = { status: 504, body: { status: 504, error: { code: 'walker_timeout', message: `Walker did not finish within ${TIMEOUT_MS} ms` } } };

  it('a walker that never settles → 504 walker_timeout; its throwing abort listeners are logged, not fatal', async () => {
    logLines.length = 0;
    expect(await call(via, 'run_hangs')).toEqual(timedOut);
    const logged = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'walker abort listener threw');
    expect(logged.map((l) => String(l['error']).split('\n')[0]).sort()).toEqual(['Error: abort listener threw', 'Error: async onabort rejected']);
    await expectHubUnharmed(via);
  });

  it('an async refinement that never settles → 504 walker_timeout (the timeout covers parsing)', async () => {
    expect(await call(via, 'refine_hangs', { name: 'x' })).toEqual(timedOut);
    await expectHubUnharmed(via);
  });

  it('unencodable ctx.self payloads throw at the call site, where the walker can catch them', async () => {
    expect(await call(via, 'bad_self')).toEqual({
      status: 200,
      body: {
        status: 200,
        reports: [['ctx.self: value cannot be encoded as JSON: Do not know how to serialize a BigInt', 'ctx.self: value cannot be encoded as JSON: undefined is not a JSON value']],
      },
    });
    await expectHubUnharmed(via);
  });

  it('unencodable ctx.notify* payloads throw at the call site and deliver nothing', async () => {
    expect(await call(via, 'bad_notify')).toEqual({
      status: 200,
      body: {
        status: 200,
        reports: [[
          'ctx.notifyUsers: value cannot be encoded as JSON: Do not know how to serialize a BigInt',
          expect.stringMatching(/^ctx\.notifyChannels: value cannot be encoded as JSON: Converting circular structure to JSON/),
          'ctx.notifyClients: value cannot be encoded as JSON: undefined is not a JSON value',
        ]],
      },
    });
    // expectHubUnharmed checks the bystander's next frame is its message: the bad notify sent it nothing.
    await expectHubUnharmed(via);
  });

  it('unencodable ctx.report values throw at the call site; the reports before them are kept', async () => {
    expect(await call(via, 'bad_report')).toEqual({
      status: 200,
      body: {
        status: 200,
        reports: [
          'kept',
          ['ctx.report: value cannot be encoded as JSON: Do not know how to serialize a BigInt', 'ctx.report: value cannot be encoded as JSON: Maximum call stack size exceeded (nested too deeply)'],
        ],
      },
    });
    await expectHubUnharmed(via);
  });
});

describe('the in-flight count (maxInflightWalkers: 1)', () => {
  it.each([
    ['a rejecting async refinement', 'refine_rejects', 500],
    ['an async refinement that resolves false', 'refine_false', 422],
    ['a refinement that never settles', 'refine_hangs', 504],
    ['an unencodable async result', 'bigint_result_async', 500],
  ])('is released after %s: the next call on the socket runs', async (_what, walker, status) => {
    const c = await connect(hub);
    expect(await c.request({ type: 'walker', walker, context: { name: 'x' }, response: true })).toMatchObject({ status });
    expect(await c.request({ type: 'walker', walker: 'ok', context: {}, response: true })).toMatchObject({ status: 200, reports: ['ok'] });
  });
});

describe('a walker without input', () => {
  it.each(transports)('accepts any JSON object over %s, keys kept', async (via) => {
    const input = { anything: [1, { deep: null }], more: 'yes' };
    expect(await call(via, 'no_input', input)).toEqual({ status: 200, body: { status: 200, reports: [input] } });
  });

  it('refuses a REST body that is not an object (422)', async () => {
    const res = await post(hub, '/walker/no_input', [1, 2]);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { code: 'invalid_input' } });
  });
});
