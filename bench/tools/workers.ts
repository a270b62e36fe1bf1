/**
 * `walker-hub --workers N` side by side: the real command with 1 and with 2 workers on one Redis,
 * each measured on walker calls and on a channel fanout, interleaved `--repeats` times (median kept).
 *
 *   REDIS_URL=redis://127.0.0.1:6379 node --import tsx bench/tools/workers.ts [--workers=1,2]
 *     [--repeats=3] [--seconds=4] [--sockets=100] [--window=8] [--subscribers=1000] [--burst=20]
 *
 * Hub CPU is every hub process's (the supervisor and its workers, from /proc); the load generator
 * (this process, the `ws` client) runs on the same machine and its CPU is reported beside it: on a
 * machine with few cores it competes with the workers, so the rates are the pair's, not the hub's
 * ceiling. Redis's CPU is not counted (it may be shared with other jobs).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { arg } from '../lib/arg.js';

const WORKERS = arg('workers', '1,2').split(',').map(Number);
const REPEATS = Number(arg('repeats', '3'));
const SECONDS = Number(arg('seconds', '4'));
const SOCKETS = Number(arg('sockets', '100'));
const WINDOW = Number(arg('window', '8'));
const SUBSCRIBERS = Number(arg('subscribers', '1000'));
const BURST = Number(arg('burst', '20'));
const REDIS_URL = process.env['REDIS_URL'];
if (!REDIS_URL) throw new Error('set REDIS_URL: --workers needs Redis');

const ROOT = resolve(import.meta.dirname, '../..');
const TICK = 100; // USER_HZ: /proc times are in 1/100 s on Linux
const BODY = { user: 'bench-user', room: 'bench', seq: 42, text: 'hello from the benchmark' };

function cpuSec(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

interface Hub {
  readonly port: number;
  readonly pids: number[];
  readonly child: ChildProcessWithoutNullStreams;
}

async function startHub(workers: number): Promise<Hub> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/walker-hub.js'), '--port', '0', '--workers', String(workers), '--walkers', join(ROOT, 'bench/walkers'), '--demo', 'false', '--log-level', 'warn', '--frame-rate', '0', '--peer-events', 'public', '--max-connections-per-ip', '0', '--data-dir', mkdtempSync(join(tmpdir(), 'wh-workers-')), '--redis-prefix', `bw${process.pid}:`],
    { env: { ...process.env, REDIS_URL, WALKER_HUB_ANNOUNCE: '1', WALKER_HUB_LOG_FORMAT: 'json' } },
  );
  child.stderr.resume();
  const pids = [child.pid as number];
  for await (const line of createInterface({ input: child.stdout })) {
    const a = JSON.parse(line) as { worker?: number; pid?: number; port?: number; listening?: string };
    if (a.worker !== undefined && a.pid !== undefined) pids.push(a.pid);
    // A single worker is a plain hub: it announces only its port.
    if (a.port !== undefined) return { port: a.port, pids, child };
  }
  throw new Error('hub exited before listening');
}

async function stopHub(hub: Hub): Promise<void> {
  const exited = new Promise((r) => hub.child.once('exit', r));
  hub.child.kill('SIGTERM');
  await exited;
}

const hubCpu = (hub: Hub) => hub.pids.reduce((sum, pid) => sum + cpuSec(pid), 0);
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function open(port: number): Promise<WebSocket> {
  return new Promise((resolveOpen, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/websocket`);
    ws.once('message', () => resolveOpen(ws)); // the `connection` frame
    ws.once('error', reject);
  });
}

interface Figure {
  readonly rate: number;
  readonly hubUs: number;
  readonly loadUs: number;
}

/** SOCKETS sockets, each keeping WINDOW bench_echo calls (with uid) in flight, for SECONDS. */
async function walkerCalls(hub: Hub): Promise<Figure> {
  const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => open(hub.port)));
  let done = 0;
  let measuring = false;
  let stop = false;
  const frame = (i: number) => JSON.stringify({ type: 'walker', walker: 'bench_echo', context: BODY, response: true, uid: `u${i}` });
  for (const ws of sockets) {
    let seq = 0;
    ws.on('message', () => {
      if (measuring) done++;
      if (!stop) ws.send(frame(seq++));
    });
    for (let i = 0; i < WINDOW; i++) ws.send(frame(seq++));
  }
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  const [h0, l0, t0] = [hubCpu(hub), selfCpu(), performance.now()];
  measuring = true;
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  measuring = false;
  const [h1, l1, t1] = [hubCpu(hub), selfCpu(), performance.now()];
  stop = true;
  for (const ws of sockets) ws.terminate();
  return { rate: done / ((t1 - t0) / 1000), hubUs: ((h1 - h0) * 1e6) / done, loadUs: ((l1 - l0) * 1e6) / done };
}

/** SUBSCRIBERS sockets in one channel; a publisher sends BURST frames, waits until all arrived, repeats for SECONDS. */
async function fanout(hub: Hub): Promise<Figure> {
  const subscribers: WebSocket[] = [];
  for (let i = 0; i < SUBSCRIBERS; i += 100) subscribers.push(...(await Promise.all(Array.from({ length: Math.min(100, SUBSCRIBERS - i) }, () => open(hub.port)))));
  await Promise.all(
    subscribers.map(
      (ws) =>
        new Promise<void>((joined) => {
          ws.once('message', () => joined());
          ws.send(JSON.stringify({ type: 'subscribe', channel_ids: ['room'], uid: 's' }));
        }),
    ),
  );
  const publisher = await open(hub.port);
  let received = 0;
  let waiting: (() => void) | null = null;
  let target = 0;
  for (const ws of subscribers)
    ws.on('message', () => {
      if (++received >= target && waiting) {
        const wake = waiting;
        waiting = null;
        wake();
      }
    });
  const burst = async () => {
    target = received + BURST * SUBSCRIBERS;
    const arrived = new Promise<void>((r) => (waiting = r));
    for (let i = 0; i < BURST; i++) publisher.send(JSON.stringify({ type: 'channel', channel_ids: ['room'], data: BODY }));
    await arrived;
  };
  const warmUntil = performance.now() + 1000;
  while (performance.now() < warmUntil) await burst();
  const [h0, l0, t0, r0] = [hubCpu(hub), selfCpu(), performance.now(), received];
  while (performance.now() < t0 + SECONDS * 1000) await burst();
  const [h1, l1, t1, r1] = [hubCpu(hub), selfCpu(), performance.now(), received];
  for (const ws of [...subscribers, publisher]) ws.terminate();
  const n = r1 - r0;
  return { rate: n / ((t1 - t0) / 1000), hubUs: ((h1 - h0) * 1e6) / n, loadUs: ((l1 - l0) * 1e6) / n };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const results = new Map<string, Figure[]>();
for (let r = 0; r < REPEATS; r++) {
  for (const workers of WORKERS) {
    for (const [name, scenario] of [['walker calls', walkerCalls], ['fanout', fanout]] as const) {
      const hub = await startHub(workers);
      try {
        const f = await scenario(hub);
        const key = `${name}|${workers}`;
        results.set(key, [...(results.get(key) ?? []), f]);
        process.stderr.write(`run ${r + 1}: ${name}, ${workers} worker(s): ${Math.round(f.rate)}/s, hub ${f.hubUs.toFixed(1)} µs, load ${f.loadUs.toFixed(1)} µs\n`);
      } finally {
        await stopHub(hub);
      }
    }
  }
}
process.stdout.write('| scenario | workers | rate /s (median) | hub CPU µs per call or delivery | load generator CPU µs |\n|---|---:|---:|---:|---:|\n');
for (const [key, figures] of results) {
  const [name, workers] = key.split('|');
  process.stdout.write(`| ${name} | ${workers} | ${Math.round(median(figures.map((f) => f.rate))).toLocaleString('en')} | ${median(figures.map((f) => f.hubUs)).toFixed(1)} | ${median(figures.map((f) => f.loadUs)).toFixed(1)} |\n`);
}
