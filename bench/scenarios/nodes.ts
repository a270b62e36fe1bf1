/**
 * Several Walker Hub nodes on one Redis, for the cluster scenario and the scale run: a loopback
 * `redis-server` of the benchmark's own (Debian's, installed with apt when missing, as
 * ../shared/services/redis-up does), hub processes whose broker uses it, and one room whose
 * subscribers are spread over the nodes (load worker i on node i mod nodes, the publisher in worker 0).
 * Every process started here is stopped by `stop()`, and killed on exit whatever happens.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { targetTopic } from '../../src/broker/wire.js';
import { spawnTs } from '../lib/children.js';
import type { LoadReport, ServerCommand, ServerReport } from '../lib/messages.js';
import { cpuSeconds, rssBytes } from '../lib/procstat.js';
import { ROOM } from './channel.js';
import { delay, ofType, split, type LoadPool, type ServerChild } from './harness.js';

const START_MS = 30_000;
const PREFIX = 'bench:';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const redisProcs = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of redisProcs) p.kill('SIGKILL');
});

function ensureRedisServer(): void {
  if (spawnSync('redis-server', ['--version']).status === 0) return;
  // Needs root, as ../shared/services/redis-up does.
  execFileSync('apt-get', ['-qq', 'update'], { stdio: 'ignore' });
  execFileSync('apt-get', ['-qq', 'install', '-y', 'redis-server'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

export class RedisServer {
  private constructor(
    private readonly proc: ChildProcess,
    readonly port: number,
  ) {}

  /** On a free loopback port, no persistence; with `cpus`, pinned there (taskset). */
  static async start(cpus: string | null): Promise<RedisServer> {
    ensureRedisServer();
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '1000',
      // A node that falls behind during a burst is not disconnected by Redis (the default pubsub
      // output limit is 32 MB): the run measures throughput, and every delivery must arrive.
      '--client-output-buffer-limit', 'pubsub', '0', '0', '0'];
    const [command, ...rest] = cpus === null ? ['redis-server', ...args] : ['taskset', '-c', cpus, 'redis-server', ...args];
    const proc = spawn(command as string, rest, { stdio: ['ignore', 'pipe', 'inherit'] });
    redisProcs.add(proc);
    proc.once('exit', () => redisProcs.delete(proc));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server not ready within ${START_MS} ms`)), START_MS);
      proc.stdout?.on('data', (chunk: Buffer) => {
        out = (out + chunk.toString()).slice(-4000);
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code ?? '?'}): ${out.slice(-300)}`));
      });
    });
    return new RedisServer(proc, port);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

export class HubNode {
  private constructor(
    private readonly child: ServerChild,
    readonly port: number,
  ) {}

  /** bench/servers/hub.ts, with its broker on `redisUrl` (null: the in-process broker, a single node); `args` to the script. */
  static async start(name: string, redisUrl: string | null, cpus: string | null, args: readonly string[] = []): Promise<HubNode> {
    const env: Record<string, string> = redisUrl === null ? {} : { BENCH_REDIS_URL: redisUrl, BENCH_REDIS_PREFIX: PREFIX };
    const child = spawnTs<ServerCommand, ServerReport>(name, 'bench/servers/hub.ts', (m) => (m.type === 'failed' ? m.message : null), ['--expose-gc'], null, args, env);
    try {
      const { port } = await child.next(ofType<ServerReport, 'listening'>('listening'), START_MS, 'listening report');
      if (cpus !== null) child.pin(cpus);
      return new HubNode(child, port);
    } catch (err) {
      await child.stop();
      throw err;
    }
  }

  get pid(): number {
    return this.child.pid;
  }

  rssBytes(): number {
    return rssBytes(this.pid);
  }

  /** Forces two full GCs in the node and returns its heap use afterwards (bytes). */
  async gc(): Promise<number> {
    this.child.send({ type: 'gc' });
    return (await this.child.next(ofType<ServerReport, 'gc'>('gc'), 30_000, 'gc report')).heapUsed;
  }

  async connections(): Promise<number> {
    this.child.send({ type: 'connections' });
    return (await this.child.next(ofType<ServerReport, 'connections'>('connections'), 30_000, 'connection count')).count;
  }

  stop(): Promise<void> {
    return this.child.stop(5000);
  }
}

/** Redis (when more than one node) and `count` hub nodes on it, all started together. */
export class Nodes {
  private constructor(
    readonly redis: RedisServer | null,
    readonly hubs: readonly HubNode[],
  ) {}

  static async start(count: number, cpus: string | null, args: readonly string[] = []): Promise<Nodes> {
    const redis = count > 1 ? await RedisServer.start(cpus) : null;
    const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => HubNode.start(`server:hub-node#${i}`, redis?.url ?? null, cpus, args)));
    const hubs = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(hubs.map((h) => h.stop()));
      await redis?.stop();
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    return new Nodes(redis, hubs);
  }

  /** Every server process: the hub nodes and Redis. */
  get pids(): number[] {
    return [...this.hubs.map((h) => h.pid), ...(this.redis ? [this.redis.pid] : [])];
  }

  /** CPU seconds so far of each server process, in `pids` order. */
  cpuSeconds(): number[] {
    return this.pids.map(cpuSeconds);
  }

  /**
   * Waits until every hub node has subscribed to `room`'s topic in Redis (a node subscribes
   * once its first member joins, asynchronously), so no message of a phase is published before.
   */
  async subscribed(room = ROOM, timeoutMs = 30_000): Promise<void> {
    if (this.redis === null) return;
    const admin = new Redis(this.redis.url, { maxRetriesPerRequest: 1 });
    try {
      const topic = targetTopic(PREFIX, 'channels', room);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const [, count] = (await admin.call('PUBSUB', 'NUMSUB', topic)) as [string, number];
        if (Number(count) >= this.hubs.length) return;
        if (Date.now() > deadline) throw new Error(`${count} of ${this.hubs.length} nodes subscribed to ${topic} after ${timeoutMs} ms`);
        await delay(50);
      }
    } finally {
      admin.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.hubs.map((h) => h.stop()));
    await this.redis?.stop();
  }
}

/**
 * Opens the room over the nodes: worker i's share of `subscribers` on node i mod nodes, and the
 * publisher (one of the subscribers) last, in worker 0, on node 0. `localAddresses`: source
 * addresses per worker (the scale run), or none. `room`: the fanout's, unless given.
 */
export async function openSpreadRoom(
  pool: LoadPool,
  nodes: Nodes,
  subscribers: number,
  concurrency: number,
  timeoutMs: number,
  localAddresses: (worker: number) => readonly string[] = () => [],
  room = ROOM,
): Promise<Extract<LoadReport, { type: 'ready' }>[]> {
  const shares = split(subscribers, pool.size);
  shares[0] = (shares[0] as number) - 1;
  const ready = await pool.setup(
    shares.map((n, i) => ({
      kind: 'channel' as const,
      endpoint: { kind: 'hub' as const, port: (nodes.hubs[i % nodes.hubs.length] as HubNode).port },
      room,
      subscribers: n,
      concurrency,
      sampleEvery: 0,
      localAddresses: localAddresses(i),
    })),
    timeoutMs,
  );
  const publisher = pool.worker(0);
  publisher.send({ type: 'publisher' });
  await publisher.next(ofType<LoadReport, 'ready'>('ready'), timeoutMs, 'publisher ready');
  await nodes.subscribed(room);
  return ready;
}
