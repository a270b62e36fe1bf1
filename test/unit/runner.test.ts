/** The walker runner without sockets: its synchronous fast path and its async fallbacks. */
import { describe, expect, it } from 'vitest';
import { publicIdentity } from '../../src/auth/identity.js';
import { MemoryBroker } from '../../src/broker/memory.js';
import { defineWalker, z } from '../../src/index.js';
import { silentLogger } from '../../src/log.js';
import { WalkerRunner, type WalkerCall } from '../../src/walkers/runner.js';
import { unusedStore, walkersFrom } from '../helpers.js';

const call: WalkerCall = { via: 'post', identity: publicIdentity, clientId: null, channelId: null, node: null };

const walkers = walkersFrom({
  sync_echo: defineWalker({ input: z.object({ n: z.number() }), auth: false, run: (_ctx, { n }) => n * 2 }),
  async_schema: defineWalker({
    input: z.object({ name: z.string().refine(async (v) => v !== 'taken', 'is taken') }),
    auth: false,
    run: (_ctx, { name }) => name,
  }),
  async_run: defineWalker({ input: z.object({}), auth: false, run: async (ctx) => ctx.report('later') }),
});
const runner = new WalkerRunner(walkers, new MemoryBroker(), unusedStore, { walkerTimeoutMs: 1000 }, silentLogger);
const walker = (name: string) => walkers.get(name)!;

describe('WalkerRunner', () => {
  it('answers synchronously for a synchronous schema and walker', () => {
    const outcome = runner.run(walker('sync_echo'), call, { n: 21 });
    expect(outcome).toEqual({ ok: true, reports: '[42]' });
    const invalid = runner.run(walker('sync_echo'), call, { n: 'x' });
    expect(invalid).toMatchObject({ ok: false, error: { code: 'invalid_input', status: 422 } });
  });

  it('falls back to async parsing for schemas with async refinements', async () => {
    const ok = runner.run(walker('async_schema'), call, { name: 'free' });
    expect(ok).toBeInstanceOf(Promise);
    expect(await ok).toEqual({ ok: true, reports: '["free"]' });
    expect(await runner.run(walker('async_schema'), call, { name: 'taken' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', issues: [{ path: 'name', message: 'is taken' }] },
    });
  });

  it('awaits async walkers', async () => {
    const outcome = runner.run(walker('async_run'), call, {});
    expect(outcome).toBeInstanceOf(Promise);
    expect(await outcome).toEqual({ ok: true, reports: '["later"]' });
  });
});
