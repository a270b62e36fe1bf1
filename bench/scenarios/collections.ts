/**
 * Live data subscriptions (docs/collections.md): starts the real command with one bench collection,
 * connects `subscribers` sockets of one user, each subscribed to the collection with a filter (so
 * every event is checked per subscriber against `owner` read access and the filter, and passes
 * both), then makes `writes` item creates from one more socket, `window` in flight at once:
 * events/s delivered and write latency (send → `items` reply). Then the same fanout without checks:
 * the same sockets in one channel, as many `channel` frames of the same size. Hub CPU per delivery
 * from /proc (Linux). Loopback only; each phase bounded in time. Run by `npm run bench` (scenario
 * `collections`) and by bench/tools/collections.ts.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { announcedPort } from '../lib/announce.js';
import { cpuSeconds } from '../lib/procstat.js';
import type { CollectionsResult } from '../lib/results.js';

const SECRET = 'bench-secret-that-is-at-least-32-characters-long';
/** Longest any phase may take before the run is abandoned, ms. */
const PHASE_LIMIT_MS = 120_000;

const COLLECTION = `import { defineCollection, z } from 'walker-hub';
export default defineCollection({
  schema: z.object({ text: z.string(), n: z.number().int(), team: z.string() }),
  access: { read: 'owner', create: 'authenticated', update: 'owner', delete: 'owner' },
});
`;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

function bounded<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`${what} took over ${PHASE_LIMIT_MS} ms`)), PHASE_LIMIT_MS)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export interface CollectionsOptions {
  readonly subscribers: number;
  readonly writes: number;
  /** Creates in flight at once. */
  readonly window: number;
  /** The command to start (the checkout's bin/walker-hub.js by default). */
  readonly bin?: string;
}

/** Two rows: item creates fanned out with per-subscriber checks, and the same count of channel frames without. */
export async function measureCollections(options: CollectionsOptions): Promise<CollectionsResult[]> {
  const { subscribers, writes, window } = options;
  const bin = options.bin ?? resolve(import.meta.dirname, '../../bin/walker-hub.js');
  const dir = mkdtempSync(join(tmpdir(), 'walker-hub-collections-bench-'));
  mkdirSync(join(dir, 'collections'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  writeFileSync(join(dir, 'collections/bench.js'), COLLECTION);
  const child = spawn(process.execPath, [bin, '--port', '0', '--data-dir', join(dir, 'data'), '--collections', join(dir, 'collections'), '--frame-rate', '0', '--max-connections-per-ip', '0'], {
    cwd: dir,
    env: { ...process.env, WALKER_HUB_ANNOUNCE: '1', WALKER_HUB_LOG_LEVEL: 'warn', WALKER_HUB_JWT_SECRET: SECRET, MONGODB_URL: '', REDIS_URL: '', REDIS_CLUSTER_NODES: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Killed on the way out whatever happens (as the harness kills its own children).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const sockets: WebSocket[] = [];
  try {
    const port = await announcedPort(child.stdout);
    const token = await new SignJWT({ root_id: 'n::0000000000000000000000bb' }).setProtectedHeader({ alg: 'HS256' }).setSubject('bench').setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
    const open = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/websocket`, { headers: { Authorization: `Bearer ${token}` } });
      await once(ws, 'message');
      sockets.push(ws);
      return ws;
    };
    const reply = (ws: WebSocket, uid: string) =>
      new Promise<string>((done) => {
        const on = (data: WebSocket.RawData) => {
          const text = data.toString();
          if (!text.includes(`"uid":"${uid}"`)) return;
          ws.off('message', on);
          done(text);
        };
        ws.on('message', on);
      });

    let received = 0;
    let onReceived: () => void = () => undefined;
    const subs: WebSocket[] = [];
    for (let i = 0; i < subscribers; i++) {
      const ws = await open();
      const init = reply(ws, 's');
      ws.send(JSON.stringify({ type: 'subscribe', collection: 'bench', uid: 's', query: { filter: { n: { _gte: 0 }, team: { _in: ['red', 'blue'] } }, limit: 1 } }));
      const first = await init;
      if (!first.includes('"event":"init"')) throw new Error(`subscribe refused: ${first}`);
      ws.on('message', () => {
        received++;
        onReceived();
      });
      subs.push(ws);
    }
    const writer = await open();

    // Phase 1: item creates; every subscriber gets each as a create event.
    const latencies: number[] = [];
    let target = writes * subscribers;
    let allIn = new Promise<void>((done) => (onReceived = () => received >= target && done()));
    const cpu0 = cpuSeconds(child.pid as number);
    const t0 = performance.now();
    const sentAt = new Map<string, number>();
    let sent = 0;
    let answered = 0;
    await bounded(
      'the writes',
      new Promise<void>((done, fail) => {
        writer.on('message', (data) => {
          const text = data.toString();
          const uid = /"uid":"(w\d+)"/.exec(text)?.[1];
          if (uid === undefined || !sentAt.has(uid)) return;
          if (!text.startsWith('{"type":"items"')) return fail(new Error(`write refused: ${text.slice(0, 200)}`));
          latencies.push(performance.now() - (sentAt.get(uid) as number));
          sentAt.delete(uid);
          if (++answered === writes) return done();
          if (sent < writes) send();
        });
        const send = () => {
          const uid = `w${sent++}`;
          sentAt.set(uid, performance.now());
          writer.send(JSON.stringify({ type: 'items', collection: 'bench', action: 'create', data: { text: 'a bench item of a few dozen characters', n: sent, team: sent % 2 ? 'red' : 'blue' }, uid }));
        };
        for (let i = 0; i < Math.min(window, writes); i++) send();
      }),
    );
    await bounded('the events', allIn);
    const itemsSec = (performance.now() - t0) / 1000;
    const itemsCpu = cpuSeconds(child.pid as number) - cpu0;
    latencies.sort((a, b) => a - b);

    // Phase 2: the same fanout with no checks: a channel, frames of the same size.
    received = 0;
    for (const ws of subs) {
      const joined = reply(ws, 'j');
      ws.send(JSON.stringify({ type: 'subscribe', channel_ids: ['bench'], uid: 'j' }));
      await joined;
    }
    received = 0;
    target = writes * subscribers;
    allIn = new Promise<void>((done) => (onReceived = () => received >= target && done()));
    const sample = JSON.stringify({ type: 'subscription', event: 'create', data: [{ id: 'V1StGXR8_Z5jdHi6B-myT', text: 'a bench item of a few dozen characters', n: 1, team: 'red', owner: 'n::0000000000000000000000bb', created_at: '2026-12-05T16:40:00.123456Z', updated_at: '2026-12-05T16:40:00.123456Z' }], uid: 's' });
    const cpu1 = cpuSeconds(child.pid as number);
    const t1 = performance.now();
    for (let i = 0; i < writes; i++) writer.send(JSON.stringify({ type: 'channel', channel_ids: ['bench'], data: JSON.parse(sample) as unknown }));
    await bounded('the channel fanout', allIn);
    const channelSec = (performance.now() - t1) / 1000;
    const channelCpu = cpuSeconds(child.pid as number) - cpu1;

    const deliveries = writes * subscribers;
    return [
      { server: 'hub', fanout: 'checked', subscribers, writes, eventsPerSec: deliveries / itemsSec, serverCpuUsPerDelivery: (itemsCpu * 1e6) / deliveries, writeP50Ms: percentile(latencies, 50), writeP99Ms: percentile(latencies, 99) },
      { server: 'hub', fanout: 'channel', subscribers, writes, eventsPerSec: deliveries / channelSec, serverCpuUsPerDelivery: (channelCpu * 1e6) / deliveries, writeP50Ms: null, writeP99Ms: null },
    ];
  } finally {
    for (const ws of sockets) ws.terminate();
    child.kill('SIGTERM');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    process.off('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
  }
}
