/** WalkerRunner.run never throws or rejects, whatever the walker throws or returns. */
import { describe, expect, it } from 'vitest';
import { publicIdentity } from '../../src/auth/identity.js';
import { MemoryBroker } from '../../src/broker/memory.js';
import { defineWalker, z } from '../../src/index.js';
import { silentLogger } from '../../src/log.js';
import { WalkerRunner, type WalkerCall, type WalkerOutcome } from '../../src/walkers/runner.js';
import { unusedStore, walkersFrom } from '../helpers.js';

const call = (signal?: AbortSignal): WalkerCall => ({
  via: 'post', identity: publicIdentity, clientId: null, channelId: null, node: null, ...(signal ? { signal } : {}),
});
/** Every trap throws: even `instanceof` and reading `.then` on it throw. */
const hostile = new Proxy({}, {
  get: () => { throw new Error('get trap'); },
  getPrototypeOf: () => { throw new Error('getPrototypeOf trap'); },
});

const open = { auth: false } as const;
const walkers = walkersFrom({
  throws_proxy: defineWalker({ ...open, input: z.object({}), run: () => { throw hostile; } }),
  returns_proxy: defineWalker({ ...open, input: z.object({}), run: () => hostile }),
  rejects_proxy: defineWalker({ ...open, input: z.object({}), run: () => Promise.reject(hostile) }),
  bad_thenable: defineWalker({ ...open, input: z.object({}), run: () => ({ then: () => { throw Object.create(null); } }) }),
  refine_throws_sync: defineWalker({ ...open, input: z.object({ a: z.string().refine(() => { throw null; }) }), run: () => 'x' }),
  async_schema: defineWalker({ ...open, input: z.object({ a: z.string().refine(async () => true) }), run: (ctx) => ctx.signal.aborted }),
  no_input: defineWalker({ ...open, run: (_ctx, input) => input }),
});
const runner = new WalkerRunner(walkers, new MemoryBroker(), unusedStore, { walkerTimeoutMs: 1000 }, silentLogger);
const run = (name: string, input: unknown = {}, signal?: AbortSignal): Promise<WalkerOutcome> => {
  let outcome: ReturnType<WalkerRunner['run']>;
  expect(() => (outcome = runner.run(walkers.get(name)!, call(signal), input))).not.toThrow();
  return Promise.resolve(outcome!);
};
const internal = { ok: false, error: { code: 'internal', status: 500, errorId: expect.any(String) } };

describe('WalkerRunner.run never throws or rejects', () => {
  it.each(['throws_proxy', 'returns_proxy', 'rejects_proxy', 'bad_thenable'])('%s → 500 internal', async (name) => {
    await expect(run(name)).resolves.toMatchObject(internal);
  });

  it('a refinement that throws synchronously → 500 internal', async () => {
    await expect(run('refine_throws_sync', { a: 'x' })).resolves.toMatchObject(internal);
  });

  it('a caller gone before an async schema finishes: the walker sees ctx.signal aborted', async () => {
    const gone = new AbortController();
    gone.abort(new Error('socket closed'));
    await expect(run('async_schema', { a: 'x' }, gone.signal)).resolves.toEqual({ ok: true, reports: '[true]' });
  });

  it('a walker without input accepts any JSON object, keys kept, and refuses a non-object', async () => {
    await expect(run('no_input', { any: [1, { deep: true }] })).resolves.toEqual({ ok: true, reports: '[{"any":[1,{"deep":true}]}]' });
    await expect(run('no_input', [1, 2])).resolves.toMatchObject({ ok: false, error: { code: 'invalid_input', status: 422 } });
  });
});
