/**
 * The graceful drain through the real `walker-hub` command: SIGTERM with open sockets and a slow
 * REST walker in flight. The walker's own wait (`ms` in its input) is the slow work under test; the
 * test itself never sleeps: it waits for the walker's `started` notification, the 1012 close, the
 * reply and the exit.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { announcedPort, HUB_BIN as BIN, killChildren, trackChild } from '../cli-process.js';
import { standaloneEnv, stopAll, tempDir, TestClient } from '../helpers.js';

afterEach(killChildren);
afterAll(stopAll);

/** A walkers folder with `slow`: announces itself on channel "watch", then works for `ms` milliseconds. */
function slowWalkers(): string {
  const dir = tempDir('walkers-slow-');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  writeFileSync(
    join(dir, 'slow.js'),
    [
      "import { defineWalker, z } from 'walker-hub';",
      'export default defineWalker({',
      '  auth: false,',
      "  methods: ['post', 'websocket'],",
      '  input: z.object({ ms: z.number().int().min(0) }),',
      '  async run(ctx, { ms }) {',
      "    ctx.notifyChannels(['watch'], { type: 'started', data: { via: ctx.via } });",
      '    await new Promise((resolve) => setTimeout(resolve, ms));',
      "    ctx.log.info('slow walker finished', { via: ctx.via });",
      "    return { slept: ms };",
      '  },',
      '});',
      '',
    ].join('\n'),
  );
  return dir;
}

async function startCli(drainTimeoutMs: number) {
  const child = spawn(process.execPath, [BIN, '--port', '0', '--host', '127.0.0.1', '--data-dir', tempDir('walker-hub-drain-'), '--walkers', slowWalkers(), '--log-format', 'json'], {
    cwd: resolve(import.meta.dirname, '../..'),
    env: standaloneEnv({ WALKER_HUB_ANNOUNCE: '1', WALKER_HUB_DRAIN_TIMEOUT: String(drainTimeoutMs) }),
  });
  trackChild(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, messages: stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { msg: string }).msg) }));
  const port = await announcedPort(child);
  const base = `http://127.0.0.1:${port}`;
  return { child, exited, base, ws: `ws://127.0.0.1:${port}/websocket` };
}

/** Starts `slow` over REST; resolves once the walker is running (its `started` notification arrived) with its pending reply. */
async function slowCall(base: string, watcher: TestClient, ms: number) {
  // Never rejects (a cut request is `{ cut }`), so no rejection goes unhandled while the test awaits other things.
  const reply: Promise<{ status: number; body: unknown } | { cut: string }> = fetch(`${base}/walker/slow`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ms }),
  }).then(
    async (res) => ({ status: res.status, body: (await res.json()) as unknown }),
    (err: unknown) => ({ cut: String(err) }),
  );
  await watcher.next('started');
  // Wrapped: an async function returning the promise itself would wait for the reply.
  return { reply };
}

/** The status of an upgrade attempt that must be refused. */
async function refusedStatus(url: string): Promise<number> {
  const ws = new WebSocket(url);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  try {
    return await new Promise<number>((resolve, reject) => {
      ws.on('error', reject);
      ws.once('open', () => reject(new Error('upgrade was accepted')));
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    });
  } finally {
    ws.terminate();
    await closed;
  }
}

describe('drain on SIGTERM', () => {
  it('closes sockets with 1012, answers /readyz 503, finishes the in-flight request with 200 and exits 0 within the timeout', async () => {
    const hub = await startCli(60_000);
    expect(await (await fetch(`${hub.base}/readyz`)).json()).toEqual({ status: 'ready' });
    const watcher = await TestClient.connect(`${hub.ws}?channel_id=watch`);
    const bystander = await TestClient.connect(hub.ws);
    const { reply } = await slowCall(hub.base, watcher, 3000);
    // The same walker over WebSocket: its socket is closed by the drain, but the walker still finishes.
    bystander.send({ type: 'walker', walker: 'slow', context: { ms: 3000 } });
    expect(await watcher.next('started')).toEqual({ type: 'started', data: { via: 'websocket' } });

    hub.child.kill('SIGTERM');
    expect(await watcher.closed).toEqual({ code: 1012, reason: 'server restarting; reconnect' });
    expect((await bystander.closed).code).toBe(1012);
    // The walker is still running: the hub answers, but not as ready, and takes no new sockets or calls.
    const ready = await fetch(`${hub.base}/readyz`);
    expect({ status: ready.status, body: await ready.json() }).toEqual({ status: 503, body: { status: 'draining' } });
    expect((await fetch(`${hub.base}/healthz`)).status).toBe(200);
    expect(await refusedStatus(hub.ws)).toBe(503);
    const late = await fetch(`${hub.base}/walker/slow`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"ms":0}' });
    expect({ status: late.status, code: ((await late.json()) as { error: { code: string } }).error.code }).toEqual({ status: 503, code: 'unavailable' });

    expect(await reply).toEqual({ status: 200, body: { status: 200, reports: [{ slept: 3000 }] } });
    const out = await hub.exited;
    expect(out.code).toBe(0);
    expect(out.messages).toContain('SIGTERM: shutting down');
    expect(out.messages).not.toContain('drain timed out; closing with work in flight');
    expect(out.messages.filter((m) => m === 'slow walker finished')).toHaveLength(2);
  });

  it('stops waiting at WALKER_HUB_DRAIN_TIMEOUT and still exits 0, saying so', async () => {
    const hub = await startCli(300);
    const watcher = await TestClient.connect(`${hub.ws}?channel_id=watch`);
    const { reply } = await slowCall(hub.base, watcher, 120_000);
    hub.child.kill('SIGTERM');
    const out = await hub.exited;
    expect(out.code).toBe(0);
    expect(out.messages).toContain('drain timed out; closing with work in flight');
    // The request that could not finish is cut, not answered.
    expect(await reply).toEqual({ cut: expect.stringContaining('fetch failed') });
  });

  it('exits at once, non-zero, on a second signal during the drain', async () => {
    const hub = await startCli(120_000);
    const watcher = await TestClient.connect(`${hub.ws}?channel_id=watch`);
    const { reply } = await slowCall(hub.base, watcher, 120_000);
    hub.child.kill('SIGTERM');
    expect((await watcher.closed).code).toBe(1012);
    hub.child.kill('SIGINT');
    const out = await hub.exited;
    expect(out.code).toBe(130);
    expect(out.messages).toContain('SIGINT again: exiting now, without waiting for the drain');
    expect(await reply).toEqual({ cut: expect.stringContaining('fetch failed') });
  });
});
