/**
 * In-order replies, both profiles: walker frames without `uid` are answered in arrival order even
 * when an earlier walker finishes last; frames with `uid`, and `self` output, are not held back.
 */
import { z } from 'zod';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { defineWalker } from '../../src/walkers/define.js';
import { closeClients, connect, post, startHub, stopAll, walkersFrom, type Frame } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

/** The gate walker waits on this until `open_gate` is called (over REST, so not on the socket under test). */
let release: () => void = () => undefined;
const walkers = walkersFrom({
  gate: defineWalker({
    input: z.object({ n: z.number() }),
    auth: false,
    methods: ['websocket'],
    run: (ctx, { n }) =>
      new Promise<number>((resolve) => {
        release = () => resolve(n);
      }),
  }),
  open_gate: defineWalker({ auth: false, methods: ['post'], run: () => release() }),
  fast: defineWalker({ input: z.object({ n: z.number() }), auth: false, methods: ['websocket'], run: (_ctx, { n }) => n }),
  talker: defineWalker({
    input: z.object({ n: z.number() }),
    auth: false,
    methods: ['websocket'],
    run: async (ctx, { n }) => {
      ctx.self({ type: 'progress', n });
      return n;
    },
  }),
});

const shapes = {
  native: { ok: (n: number) => ({ type: 'walker', walker: expect.any(String), status: 200, reports: [n] }), unknown: { type: 'error', error: expect.objectContaining({ code: 'unknown_walker' }) } },
  // jac-cloud answers a walker event naming no walker as a walker error (its websocket.py).
  'jac-cloud': { ok: (n: number) => ({ status: 200, reports: [n] }), unknown: { type: 'walker', error: expect.stringContaining('no_such_walker') } },
} as const;

describe.each(['native', 'jac-cloud'] as const)('%s profile', (profile) => {
  it('holds uid-less replies behind a slow earlier one; uid replies and self output go at once', async () => {
    const hub = await startHub({ protocol: profile }, { walkers });
    const a = await connect(hub);
    const walker = (name: string, n: number, extra: Record<string, unknown> = {}) => a.send({ type: 'walker', walker: name, response: true, context: { n }, ...extra });
    walker('gate', 1);
    walker('fast', 2);
    walker('talker', 3);
    walker('no_such_walker', 4);
    walker('fast', 5, { uid: 'u5' });
    const u5: Frame = await a.next((f) => f.uid === 'u5');
    expect(u5).toMatchObject({ type: 'walker', status: 200, reports: [5], uid: 'u5' });
    // Everything before u5 that has arrived: only the talker's self output, none of the replies.
    expect(a.pending()).toEqual([{ type: 'progress', n: 3 }]);
    await a.next('progress');

    expect((await post(hub, '/walker/open_gate', {})).status).toBe(200);
    const s = shapes[profile];
    expect(await a.next()).toEqual(s.ok(1));
    expect(await a.next()).toEqual(s.ok(2));
    expect(await a.next()).toEqual(s.ok(3));
    expect(await a.next()).toEqual(s.unknown);
  });

  it('answers synchronous uid-less walkers at once when nothing is ahead of them', async () => {
    const hub = await startHub({ protocol: profile }, { walkers });
    const a = await connect(hub);
    for (const n of [1, 2, 3]) a.send({ type: 'walker', walker: 'fast', response: true, context: { n } });
    const s = shapes[profile];
    for (const n of [1, 2, 3]) expect(await a.next()).toEqual(s.ok(n));
  });
});
