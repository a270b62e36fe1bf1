/**
 * What channel history costs (Walker Hub only; the real command, one process per node; Linux).
 *
 * 1. Publish, history off vs on: `--subscribers` sockets in one channel, `--messages` publications
 *    through the push API (8 in flight), on one node (history in memory) and on two nodes on one
 *    Redis (history through the Lua script; the subscribers split over both). Hub CPU (every node,
 *    user + system) per delivery; `--repeats` interleaved runs, the median.
 * 2. Recovery of `--missed` publications: a socket subscribes, leaves, that many are published, and
 *    it comes back with `since`; time from sending the `subscribe` to the last replayed publication,
 *    `--samples` times, p50 / p99; one node and two nodes (recovering on the other node).
 * 3. A reconnect storm: `--storm` sockets of one node in one history channel; the node restarts and
 *    every socket reconnects and subscribes again, with `since` (recovery) and without; time from
 *    the restarted node listening until every socket has its `subscribed` reply (and its replay); on Redis.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 node --import tsx bench/tools/history.ts [--subscribers=200]
 *     [--messages=1000] [--repeats=3] [--missed=300] [--samples=40] [--storm=10000] [--json=FILE]
 *
 * Without REDIS_URL the Redis rows are skipped (and say so).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { announcedPort } from '../lib/announce.js';
import { cpuSeconds } from '../lib/procstat.js';
import { arg } from '../lib/arg.js';

const subscribers = Number(arg('subscribers', '200'));
const messages = Number(arg('messages', '1000'));
const repeats = Number(arg('repeats', '3'));
const missed = Number(arg('missed', '300'));
const samples = Number(arg('samples', '40'));
const stormSize = Number(arg('storm', '10000'));
const jsonFile = arg('json', resolve(import.meta.dirname, '../results/history.json'));
const bin = resolve(import.meta.dirname, '../../bin/walker-hub.js');
const redisUrl = process.env['REDIS_URL'];
const KEY = 'bench-api-key-of-enough-length';
const SECRET = 'bench-secret-that-is-at-least-32-characters-long';
const CONCURRENCY = 8;

const dir = mkdtempSync(join(tmpdir(), 'walker-hub-history-bench-'));
const channelsFile = join(dir, 'channels.json');
writeFileSync(channelsFile, JSON.stringify({ namespaces: { hist: { history_size: 1000, history_ttl: 600, max_recovery: 1000 }, plain: {} } }));

interface Node {
  child: ChildProcess;
  port: number;
}

let nodeSeq = 0;
async function startNode(redisPrefix: string | null, port = 0): Promise<Node> {
  const args = [bin, '--port', String(port), '--data-dir', join(dir, `data${nodeSeq++}`), '--channels', channelsFile, '--frame-rate', '0', '--max-connections-per-ip', '0', '--peer-events', 'public'];
  const env: Record<string, string | undefined> = { ...process.env, WALKER_HUB_ANNOUNCE: '1', WALKER_HUB_LOG_LEVEL: 'warn', WALKER_HUB_JWT_SECRET: SECRET, WALKER_HUB_API_KEY: KEY, REDIS_URL: undefined, WALKER_HUB_REDIS_URL: undefined };
  if (redisPrefix !== null) Object.assign(env, { WALKER_HUB_REDIS_URL: redisUrl, WALKER_HUB_REDIS_PREFIX: redisPrefix });
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return { child, port: await announcedPort(child.stdout!) };
}

async function stopNode(node: Node): Promise<void> {
  if (node.child.exitCode !== null) return;
  node.child.kill('SIGTERM');
  await once(node.child, 'exit');
}

/** A socket that keeps its frames; `next(match)` waits for the next matching one. */
class Client {
  private readonly frames: Array<Record<string, unknown>> = [];
  private waiter: { match: (f: Record<string, unknown>) => boolean; resolve: (f: Record<string, unknown>) => void } | null = null;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      if (this.waiter?.match(frame)) {
        const w = this.waiter;
        this.waiter = null;
        w.resolve(frame);
      } else this.frames.push(frame);
    });
  }
  static async open(port: number): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/websocket`);
    const client = new Client(ws);
    await client.next((f) => f['type'] === 'connection');
    return client;
  }
  next(match: (f: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0] as Record<string, unknown>);
    return new Promise((resolve) => (this.waiter = { match, resolve }));
  }
  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }
  close(): void {
    this.ws.terminate();
  }
}

async function publishMany(ports: number[], channel: string, count: number): Promise<void> {
  let next = 0;
  const worker = async (w: number) => {
    while (next < count) {
      const i = next++;
      const res = await fetch(`http://127.0.0.1:${ports[(i + w) % ports.length]}/api/notify`, {
        method: 'POST',
        headers: { 'X-API-Key': KEY, 'Content-Type': 'application/json' },
        body: JSON.stringify({ channels: [channel], data: { type: 'chat', text: `message ${i} from the bench, about the length of a chat line`, i } }),
      });
      if (res.status !== 202) throw new Error(`publish failed: ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] as number;
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)] as number;

/** One publish run: hub CPU µs per delivery. */
async function publishRun(layout: 'single' | 'redis', history: boolean): Promise<number> {
  const prefix = `bench${Date.now()}${Math.random().toString(16).slice(2, 6)}:`;
  const nodes = layout === 'single' ? [await startNode(null)] : [await startNode(prefix), await startNode(prefix)];
  const clients: Client[] = [];
  try {
    const channel = `${history ? 'hist' : 'plain'}:room`;
    for (let i = 0; i < subscribers; i++) {
      const c = await Client.open((nodes[i % nodes.length] as Node).port);
      c.send({ type: 'subscribe', channel_ids: [channel], uid: 's' });
      await c.next((f) => f['uid'] === 's');
      clients.push(c);
    }
    let delivered = 0;
    const target = subscribers * messages;
    let done: () => void = () => undefined;
    const all = new Promise<void>((r) => (done = r));
    for (const c of clients) c.ws.on('message', () => ++delivered >= target && done());
    const cpu0 = nodes.reduce((s, n) => s + cpuSeconds(n.child.pid as number), 0);
    await publishMany(nodes.map((n) => n.port), channel, messages);
    await all;
    const cpu = nodes.reduce((s, n) => s + cpuSeconds(n.child.pid as number), 0) - cpu0;
    return (cpu * 1e6) / target;
  } finally {
    for (const c of clients) c.close();
    await Promise.all(nodes.map(stopNode));
  }
}

/** Recovery times, ms. */
async function recoveryRun(layout: 'single' | 'redis'): Promise<number[]> {
  const prefix = `bench${Date.now()}r:`;
  const nodes = layout === 'single' ? [await startNode(null)] : [await startNode(prefix), await startNode(prefix)];
  const times: number[] = [];
  try {
    for (let s = 0; s < samples; s++) {
      const channel = `hist:recover${s}`;
      const first = await Client.open((nodes[0] as Node).port);
      first.send({ type: 'subscribe', channel_ids: [channel], uid: 's' });
      const position = ((await first.next((f) => f['uid'] === 's'))['positions'] as Record<string, unknown>)[channel];
      first.close();
      await publishMany([(nodes[0] as Node).port], channel, missed);
      const back = await Client.open((nodes[nodes.length - 1] as Node).port);
      const t0 = performance.now();
      back.send({ type: 'subscribe', channel_ids: [channel], since: { [channel]: position }, uid: 'r' });
      const reply = await back.next((f) => f['uid'] === 'r');
      if ((reply['recovered'] as Record<string, boolean>)[channel] !== true) throw new Error(`not recovered: ${JSON.stringify(reply)}`);
      await back.next((f) => f['type'] === 'publication' && f['offset'] === missed);
      times.push(performance.now() - t0);
      back.close();
    }
    return times;
  } finally {
    await Promise.all(nodes.map(stopNode));
  }
}

/** Ms from the restarted node's start until every socket is subscribed again (and has its replay, when recovering). */
async function stormRun(recover: boolean): Promise<{ ms: number; recovered: number }> {
  const prefix = `bench${Date.now()}s:`;
  let node = await startNode(prefix);
  const port = node.port;
  const channel = 'hist:storm';
  const clients: Client[] = [];
  try {
    const positions: unknown[] = [];
    for (let i = 0; i < stormSize; i += 200) {
      const batch = await Promise.all(Array.from({ length: Math.min(200, stormSize - i) }, () => Client.open(port)));
      for (const c of batch) c.send({ type: 'subscribe', channel_ids: [channel], uid: 's' });
      for (const c of batch) positions.push(((await c.next((f) => f['uid'] === 's'))['positions'] as Record<string, unknown>)[channel]);
      clients.push(...batch);
    }
    await stopNode(node);
    for (const c of clients) c.close();
    clients.length = 0;
    const other = await startNode(prefix);
    await publishMany([other.port], channel, 10);
    await stopNode(other);
    node = await startNode(prefix, port);
    // From the moment the restarted node listens (its start-up is the same either way).
    const t0 = performance.now();
    let recovered = 0;
    const rejoin = async (i: number) => {
      const c = await Client.open(port);
      clients.push(c);
      c.send({ type: 'subscribe', channel_ids: [channel], uid: 'r', ...(recover ? { since: { [channel]: positions[i] } } : {}) });
      const reply = await c.next((f) => f['uid'] === 'r');
      if (recover && (reply['recovered'] as Record<string, boolean>)[channel] === true) {
        recovered++;
        await c.next((f) => f['type'] === 'publication' && f['offset'] === (positions[i] as { offset: number }).offset + 10);
      }
    };
    // As many reconnecting at once as clients with backoff would: all of them, 500 handshakes in flight.
    let next = 0;
    await Promise.all(Array.from({ length: 500 }, async () => {
      while (next < stormSize) await rejoin(next++);
    }));
    return { ms: performance.now() - t0, recovered };
  } finally {
    for (const c of clients) c.close();
    await stopNode(node);
  }
}

const out: Record<string, unknown> = { date: new Date().toISOString(), subscribers, messages, repeats, missed, samples, storm: stormSize };
try {
  const layouts: Array<'single' | 'redis'> = redisUrl === undefined ? ['single'] : ['single', 'redis'];
  if (redisUrl === undefined) console.log('SKIPPED: the Redis rows (REDIS_URL is not set)');
  const publish: Array<{ layout: string; history: boolean; cpuUsPerDelivery: number; runs: number[] }> = [];
  for (const layout of layouts) {
    const runs = new Map<boolean, number[]>([[false, []], [true, []]]);
    for (let r = 0; r < repeats; r++) for (const history of [false, true]) (runs.get(history) as number[]).push(await publishRun(layout, history));
    for (const [history, xs] of runs) publish.push({ layout, history, cpuUsPerDelivery: median(xs), runs: xs });
  }
  out['publish'] = publish;
  console.log(`\nPublish: ${subscribers} subscribers, ${messages} publications through the push API; hub CPU per delivery, median of ${repeats} interleaved runs`);
  console.log('| layout | history off (µs) | history on (µs) | on / off |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const layout of layouts) {
    const off = publish.find((p) => p.layout === layout && !p.history)?.cpuUsPerDelivery ?? NaN;
    const on = publish.find((p) => p.layout === layout && p.history)?.cpuUsPerDelivery ?? NaN;
    console.log(`| ${layout === 'single' ? 'one node (memory)' : 'two nodes on Redis (Lua)'} | ${off.toFixed(3)} | ${on.toFixed(3)} | ${(on / off).toFixed(2)}× |`);
  }

  const recovery: Array<{ layout: string; p50Ms: number; p99Ms: number; maxMs: number }> = [];
  for (const layout of layouts) {
    const times = await recoveryRun(layout);
    recovery.push({ layout, p50Ms: quantile(times, 0.5), p99Ms: quantile(times, 0.99), maxMs: Math.max(...times) });
  }
  out['recovery'] = recovery;
  console.log(`\nRecovery of ${missed} missed publications (subscribe with since → the last one replayed), ${samples} samples`);
  console.log('| layout | p50 (ms) | p99 (ms) | max (ms) |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const r of recovery) console.log(`| ${r.layout === 'single' ? 'one node' : 'two nodes on Redis, recovering on the other'} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.maxMs.toFixed(2)} |`);

  if (redisUrl !== undefined && stormSize > 0) {
    const storm = [await stormRun(false), await stormRun(true)];
    out['storm'] = storm;
    console.log(`\nReconnect storm: ${stormSize} sockets of one node on Redis reconnect after it restarts (10 publications missed)`);
    console.log('| resubscribe | until all subscribed (ms) | recovered |');
    console.log('| --- | ---: | ---: |');
    console.log(`| without since | ${storm[0]?.ms.toFixed(0)} | — |`);
    console.log(`| with since (recovery) | ${storm[1]?.ms.toFixed(0)} | ${storm[1]?.recovered} |`);
  }
  writeFileSync(jsonFile, JSON.stringify(out, null, 2));
  console.log(`\nwritten: ${jsonFile}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
