/**
 * What one socket can make the hub hold while its replies wait behind a slow walker: the reply
 * line's places and characters, and the frames of walkers still running, each under a per-socket
 * budget. At the line's bound the socket is closed with 4008 and a reason (never a silent cut);
 * over the in-flight budget a call is refused with `too_many_requests` in its place in line.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { z } from 'zod';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeCodes } from '../../src/errors.js';
import { defineWalker } from '../../src/walkers/define.js';
import { closeClients, connect, post, startHub, stopAll, walkersFrom, type TestClient } from '../helpers.js';

afterEach(closeClients);
afterAll(stopAll);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Gate calls wait until `open_gate` is called over REST (so not on a socket under test). */
let waiting: Array<() => void> = [];
const walkers = walkersFrom({
  gate: defineWalker({
    input: z.object({ pad: z.string().optional() }),
    auth: false,
    methods: ['websocket'],
    run: () => new Promise<string>((resolve) => waiting.push(() => resolve('open'))),
  }),
  open_gate: defineWalker({
    auth: false,
    methods: ['post'],
    run: () => {
      const open = waiting;
      waiting = [];
      for (const release of open) release();
      return open.length;
    },
  }),
  echo: defineWalker({ input: z.object({ pad: z.string() }), auth: false, methods: ['websocket'], run: (_ctx, { pad }) => pad }),
});

const walker = (socket: TestClient, name: string, context: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  socket.send({ type: 'walker', walker: name, response: true, context, ...extra });

/** Awaits a request/response round trip on `socket`: every frame sent before it has been handled. */
const handled = (socket: TestClient) => socket.sync();

describe.each(['native', 'jac-cloud'] as const)('reply line bounds, %s profile', (profile) => {
  it('closes with 4008 and a reason when more places wait in line than replyQueueLength', async () => {
    const hub = await startHub({ protocol: profile, replyQueueLength: 8, frameRate: 0 }, { walkers });
    const a = await connect(hub);
    walker(a, 'gate', {});
    for (let i = 0; i < 7; i++) walker(a, 'echo', { pad: `p${i}` });
    await handled(a);
    expect(a.pending()).toEqual([]);
    walker(a, 'echo', { pad: 'one too many' });
    const closed = await a.closed;
    expect(closed.code).toBe(closeCodes.replyBacklog);
    expect(closed.reason).toMatch(/more than 8 replies waiting behind a slow walker/);
    // The hub forgot the line: nothing waits for the closed socket.
    expect(hub.hub.replyBacklogChars()).toBe(0);
    expect((await post(hub, '/walker/open_gate', {})).status).toBe(200);
  });

  it('closes with 4008 when the characters of waiting replies pass replyQueueBytes', async () => {
    const hub = await startHub({ protocol: profile, replyQueueBytes: 64 * 1024, frameRate: 0 }, { walkers });
    const a = await connect(hub);
    const b = await connect(hub);
    walker(a, 'gate', {});
    const pad = 'x'.repeat(20 * 1024);
    walker(a, 'echo', { pad });
    walker(a, 'echo', { pad });
    walker(a, 'echo', { pad });
    await handled(a);
    expect(hub.hub.replyBacklogChars()).toBeGreaterThan(3 * pad.length);
    walker(a, 'echo', { pad });
    const closed = await a.closed;
    expect(closed.code).toBe(closeCodes.replyBacklog);
    expect(closed.reason).toMatch(/over 65536 characters of replies waiting/);
    expect(hub.hub.replyBacklogChars()).toBe(0);
    // Another socket is unaffected.
    await b.sync();
    expect((await post(hub, '/walker/open_gate', {})).status).toBe(200);
  });

  it('refuses a call over maxInflightBytes with too_many_requests, in its place in line', async () => {
    const hub = await startHub({ protocol: profile, maxInflightBytes: 100 * 1024, frameRate: 0 }, { walkers });
    const a = await connect(hub);
    const pad = 'y'.repeat(40 * 1024);
    walker(a, 'gate', { pad });
    walker(a, 'gate', { pad });
    walker(a, 'gate', { pad }); // 120 KiB running: refused
    walker(a, 'echo', { pad: 'after' });
    await handled(a);
    expect(a.pending()).toEqual([]);
    expect((await post(hub, '/walker/open_gate', {})).body).toMatchObject({ reports: [2] });
    const replies = [await a.next(), await a.next(), await a.next(), await a.next()];
    const text = replies.map((r) => JSON.stringify(r));
    expect(text[0]).toContain('open');
    expect(text[1]).toContain('open');
    expect(text[2]).toMatch(/too_many_requests|at once per connection/);
    expect(text[3]).toContain('after');
  });

  it('answers a malformed walker frame without uid in its place in line, behind a slow walker', async () => {
    const hub = await startHub({ protocol: profile }, { walkers });
    const a = await connect(hub);
    walker(a, 'gate', {});
    a.send({ type: 'walker', walker: 'echo', context: 5 });
    a.send({ type: 'walker', walker: 'echo', response: 'yes', context: { pad: 'p' } });
    walker(a, 'echo', { pad: 'last' });
    await handled(a);
    expect(a.pending()).toEqual([]);
    expect((await post(hub, '/walker/open_gate', {})).status).toBe(200);
    const replies = [await a.next(), await a.next(), await a.next(), await a.next()].map((r) => JSON.stringify(r));
    expect(replies[0]).toContain('open');
    expect(replies[1]).toContain('invalid_frame');
    expect(replies[2]).toContain('invalid_frame');
    expect(replies[3]).toContain('last');
  });
});

describe('memory one socket can make the hub hold (docs/operations.md: per-socket worst case)', () => {
  it('sockets filling their reply line and in-flight budget hold at most about 2 MiB of heap each', async () => {
    const hub = await startHub({ frameRate: 0 }, { walkers });
    const sockets = await Promise.all(Array.from({ length: 8 }, () => connect(hub)));
    gc();
    const before = process.memoryUsage().heapUsed;
    // Each socket: 16 running 60 KB gate calls (just under the 1 MiB in-flight budget, so a 60 KB
    // call still fits beside them), then 16 60 KB echo replies waiting behind them (just under the
    // line's 1 MiB).
    const pad = 'z'.repeat(60 * 1024);
    for (const s of sockets) {
      for (let i = 0; i < 16; i++) walker(s, 'gate', { pad });
      for (let i = 0; i < 16; i++) walker(s, 'echo', { pad });
    }
    await Promise.all(sockets.map(handled));
    gc();
    const perSocket = (process.memoryUsage().heapUsed - before) / sockets.length;
    expect(hub.hub.replyBacklogChars()).toBeGreaterThan(sockets.length * 16 * pad.length);
    console.log(`reply-bounds: ${(perSocket / 1024 / 1024).toFixed(2)} MiB of heap per socket with a full line and in-flight budget`);
    // Documented: 1 MiB of reply line + 1 MiB of running walkers' frames (one-byte strings), plus
    // a few KB per socket of sessions and calls.
    expect(perSocket).toBeLessThan(2.25 * 1024 * 1024);
    expect(perSocket).toBeGreaterThan(1.5 * 1024 * 1024);
    // Replies past the line's characters close the socket with 4008, not a silent cut.
    walker(sockets[0] as TestClient, 'echo', { pad });
    walker(sockets[0] as TestClient, 'echo', { pad });
    expect((await (sockets[0] as TestClient).closed).code).toBe(closeCodes.replyBacklog);
    expect((await post(hub, '/walker/open_gate', {})).status).toBe(200);
  }, 30_000);
});
