/**
 * A private 3-master Redis Cluster for tests that stop a shard or move slots, started with
 * ../shared/services/redis-cluster-up so other test files' cluster is never disturbed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

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
