/**
 * The real `walker-hub` command under a small open-file limit (prlimit), flooded with more
 * connections than fit: it refuses upgrades over its derived cap, stops accepting near the limit
 * instead of spinning on EMFILE, keeps serving the sockets it has, and accepts again once they go.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { cpuSeconds } from '../../bench/lib/procstat.js';
import { announcedPort, HUB_BIN as BIN, killChildren, trackChild } from '../cli-process.js';
import { standaloneEnv, stopAll, tempDir, TestClient } from '../helpers.js';

const PRLIMIT = '/usr/bin/prlimit';
/** Small enough that a few hundred loopback sockets exhaust it. */
const NOFILE = 300;
/** How long connections keep arriving while the hub is full: long enough for /proc's 10 ms CPU ticks to mean something. */
const FLOOD_MS = 1500;
/** Bounds on what the test opens, whatever happens. */
const RAW_SOCKETS = 320;
const MAX_FLOOD_ATTEMPTS = 20_000;
const FLOOD_CONCURRENCY = 20;

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await killChildren();
  await stopAll();
});

interface Hub {
  child: ChildProcessWithoutNullStreams;
  port: number;
  /** Resolves when a stderr line containing `text` has been written (now or later). */
  logged(text: string): Promise<string>;
}

async function startLimitedHub(env: Record<string, string> = {}): Promise<Hub> {
  const dir = tempDir('walker-hub-nofile-');
  const child = spawn(PRLIMIT, [`--nofile=${NOFILE}:${NOFILE}`, process.execPath, BIN, '--port', '0', '--host', '127.0.0.1', '--data-dir', join(dir, 'data')], {
    env: standaloneEnv({ WALKER_HUB_ANNOUNCE: '1', WALKER_HUB_LOG_LEVEL: 'info', ...env }),
  });
  trackChild(child);
  const lines: string[] = [];
  const waiters: Array<{ text: string; resolve: (line: string) => void }> = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (process.env.DEBUG_HUB) process.stderr.write(`hub: ${line}\n`);
    lines.push(line);
    for (const w of waiters.filter((w) => line.includes(w.text))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  });
  const logged = (text: string) => {
    const seen = lines.find((l) => l.includes(text));
    return seen !== undefined ? Promise.resolve(seen) : new Promise<string>((resolve) => waiters.push({ text, resolve }));
  };
  return { child, port: await announcedPort(child, () => lines.join('\n')), logged };
}

/** A TCP connection that never sends a byte; resolves with it once connected, or null if refused or reset. */
function rawSocket(port: number, sockets: Set<Socket>): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    sockets.add(socket);
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => {
      sockets.delete(socket);
      resolve(null);
    });
  });
}

/** One upgrade attempt: its HTTP status, 101 (then closed at once), or 0 when the connection failed. */
function upgradeAttempt(port: number, live: Set<WebSocket>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/websocket`);
    live.add(ws);
    const done = (status: number) => {
      live.delete(ws);
      resolve(status);
    };
    ws.once('open', () => {
      ws.terminate();
      done(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      done(res.statusCode ?? 0);
    });
    ws.once('error', () => done(0));
  });
}

/** GET /healthz on one kept-alive connection (opened before the flood, so it needs no new descriptor). */
function health(port: number, agent: Agent): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
      res.on('error', reject);
    }).on('error', reject);
  });
}

const canLimit = existsSync(PRLIMIT) && existsSync('/proc/self/limits');
if (!canLimit) {
  // prlimit (util-linux) and /proc are on every Debian machine; elsewhere this test cannot run.
  if (process.env['REQUIRE_SERVICES'] === '1') throw new Error(`REQUIRE_SERVICES=1 but ${PRLIMIT} or /proc/self/limits is missing`);
  console.warn(`SKIPPED: open-file limit test — ${PRLIMIT} or /proc/self/limits is missing`);
}

describe.skipIf(!canLimit)('open-file limit', () => {
  it('refuses upgrades over the derived cap and, flooded past the limit, stays near idle and keeps serving', async () => {
    const hub = await startLimitedHub();
    const pid = hub.child.pid as number;
    expect(readFileSync(`/proc/${pid}/limits`, 'utf8')).toMatch(new RegExp(`Max open files\\s+${NOFILE}\\s+${NOFILE}`));

    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const before = await health(hub.port, agent);
    const cap = before.max_connections as number;
    // The cap leaves room below the limit for what the process already has open and a reserve.
    expect(cap).toBeGreaterThan(50);
    expect(cap).toBeLessThan(NOFILE - 100);
    expect(before.accepting).toBe(true);

    const existing = await TestClient.connect(`ws://127.0.0.1:${hub.port}/websocket`);
    cleanups.push(() => void existing.ws.terminate());
    const held: WebSocket[] = [];
    cleanups.push(() => held.forEach((ws) => ws.terminate()));
    while (held.length < cap - 1) {
      const ws = new WebSocket(`ws://127.0.0.1:${hub.port}/websocket`);
      held.push(ws);
      await once(ws, 'open');
    }
    // At the cap: refused with a JSON 503 naming it.
    const full = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${hub.port}/websocket`);
      ws.once('open', () => reject(new Error('upgrade over the cap was accepted')));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
    });
    expect(full.status).toBe(503);
    expect(JSON.parse(full.body)).toMatchObject({ error: { code: 'server_full', message: expect.stringContaining(`${cap} connections`) } });

    // Sockets that never upgrade use descriptors too: open more than the limit leaves.
    const raw = new Set<Socket>();
    cleanups.push(() => raw.forEach((s) => s.destroy()));
    for (let i = 0; i < RAW_SOCKETS; i += 20) await Promise.all(Array.from({ length: 20 }, () => rawSocket(hub.port, raw)));
    expect(await hub.logged('not accepting connections')).toContain(`"limit":${NOFILE}`);

    // The flood window: connections keep arriving (bounded in count and concurrency).
    const live = new Set<WebSocket>();
    cleanups.push(() => live.forEach((ws) => ws.terminate()));
    const outcomes = new Map<number, number>();
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    let attempts = 0;
    const worker = async () => {
      while (performance.now() - t0 < FLOOD_MS && attempts < MAX_FLOOD_ATTEMPTS) {
        attempts++;
        const status = await upgradeAttempt(hub.port, live);
        outcomes.set(status, (outcomes.get(status) ?? 0) + 1);
      }
    };
    const flood = Promise.all(Array.from({ length: FLOOD_CONCURRENCY }, worker));
    // Meanwhile the sockets the hub already has are served.
    expect(await existing.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    expect(await health(hub.port, agent)).toMatchObject({ status: 'ok', clients: cap, max_connections: cap, accepting: false });
    await flood;
    const wall = (performance.now() - t0) / 1000;
    const share = (cpuSeconds(pid) - cpu0) / wall;
    console.info(`hub CPU during a ${wall.toFixed(2)} s flood of ${attempts} attempts: ${(share * 100).toFixed(1)}% of a core; outcomes ${JSON.stringify([...outcomes])}`);
    // A safety bound against a spin on EMFILE (which is ~100%), not a speed target.
    expect(share).toBeLessThan(0.5);
    expect(outcomes.get(101)).toBeUndefined();
    expect(await existing.request({ type: 'ping' })).toMatchObject({ type: 'pong' });

    // Once the idle sockets go, the hub listens again on the same port.
    for (const s of raw) s.destroy();
    raw.clear();
    for (const ws of held.splice(0, 10)) ws.terminate();
    await hub.logged('accepting connections again');
    const again = await TestClient.connect(`ws://127.0.0.1:${hub.port}/websocket`);
    expect(await again.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await again.close();
    expect(await health(hub.port, agent)).toMatchObject({ accepting: true });
  }, 30_000);
});
