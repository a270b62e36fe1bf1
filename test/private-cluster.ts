/**
 * A private 3-master Redis Cluster for tests that stop a shard or move slots, started with
 * ../shared/services/redis-cluster-up so other test files' cluster is never disturbed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Cluster } from 'ioredis';
import { parseClusterNodes } from '../src/broker/redis-cluster.js';
import { keySlot } from '../src/broker/slot.js';

const SCRIPT = resolve(import.meta.dirname, '../../shared/services/redis-cluster-up');
/** The script, when it and redis-server are installed; undefined otherwise (skip loudly). */
export const privateClusterScript = existsSync(SCRIPT) && spawnSync('redis-server', ['--version']).status === 0 ? SCRIPT : undefined;

const isFree = (port: number) =>
  new Promise<boolean>((done) => {
    const server = createServer()
      .once('error', () => done(false))
      .listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });

/** A block of 3 ports below 22000 whose cluster-bus ports (+10000) are free too. */
export async function freeBlock(): Promise<number> {
  for (let port = 17000 + Math.floor(Math.random() * 400) * 10; port < 21990; port += 10) {
    const ports = [0, 1, 2].flatMap((i) => [port + i, port + 10000 + i]);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return port;
  }
  throw new Error('no free port block for a private Redis Cluster');
}

/** Starts 3 masters on `first`..`first + 2` with their files in `dir`; resolves to `host:port,...`. */
export async function startCluster(dir: string, first: number): Promise<string> {
  const child = spawn(SCRIPT, [dir, String(first), '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  const nodes = /^REDIS_CLUSTER_NODES=(.+)$/m.exec(out)?.[1];
  if (code !== 0 || nodes === undefined) throw new Error(`redis-cluster-up failed (${code}): ${out}`);
  return nodes;
}

/** SIGKILLs shard `shard` (0..2) of the cluster in `dir`, if it runs. */
export function stopShard(dir: string, shard: number): void {
  const pidFile = join(dir, String(shard), 'redis.pid');
  // No pid file: that shard never started (the cluster script failed), so there is nothing to stop.
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    // Already gone (a failed test may have stopped it): nothing to stop.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** A private cluster started for one test, with an admin connection; `close()` stops it and removes its files. */
export interface PrivateCluster {
  readonly dir: string;
  /** The first master's port; shard i listens on `first + i`. */
  readonly first: number;
  /** `host:port,...` of the masters. */
  readonly list: string;
  /** Connected (ready) and closed by `close()`. */
  readonly admin: Cluster;
  /** Which shard (0..2) owns the slot of `key`. */
  shardOf(key: string): number;
  close(): Promise<void>;
}

export async function startPrivateCluster(): Promise<PrivateCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'walker-hub-cluster-'));
  const close = async (admin?: Cluster) => {
    admin?.disconnect();
    for (let shard = 0; shard < 3; shard++) stopShard(dir, shard);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const first = await freeBlock();
    const list = await startCluster(dir, first);
    const admin = new Cluster(parseClusterNodes(list));
    try {
      await new Promise<void>((ready, fail) => admin.once('ready', ready).once('error', fail));
    } catch (err) {
      await close(admin);
      throw err;
    }
    const shardOf = (key: string) => Number((admin.slots[keySlot(key)]?.[0] ?? '').split(':')[1]) - first;
    return { dir, first, list, admin, shardOf, close: () => close(admin) };
  } catch (err) {
    await close();
    throw err;
  }
}
