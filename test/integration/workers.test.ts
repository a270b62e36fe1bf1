/**
 * `walker-hub --workers 2`: the real command, two worker processes on one port and a real Redis.
 * Both workers accept, a channel frame sent to one reaches a socket on the other, a killed worker
 * comes back, SIGTERM ends every process within the drain bound, and more than one worker without
 * Redis is refused with status 2.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { get } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_URL, testPrefix, withService } from '../broker-helpers.js';
import { HUB_BIN, killChildren, trackChild } from '../cli-process.js';
import { standaloneEnv, tempDir, TestClient } from '../helpers.js';

afterEach(killChildren);

/** New TCP connections per probe: SO_REUSEPORT spreads connections, not requests on one. */
const PROBES = 24;
const DRAIN_MS = 2000;

function run(args: string[], env: Record<string, string>, dataDir = tempDir('walker-hub-workers-')) {
  const child = spawn(process.execPath, [HUB_BIN, '--data-dir', dataDir, '--port', '0', ...args], {
    cwd: resolve(import.meta.dirname, '../..'),
    env: standaloneEnv({ WALKER_HUB_ANNOUNCE: '1', WALKER_HUB_LOG_FORMAT: 'json', ...env }),
  });
  trackChild(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr }));
  return { child, exited, stderr: () => stderr };
}

type Announced = { worker?: number; pid?: number; restarts?: number; listening?: string; port?: number };

/** The supervisor's announcement lines, awaited one at a time in order. */
function announcements(child: ChildProcessWithoutNullStreams) {
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return async (match: (a: Announced) => boolean): Promise<Announced> => {
    for (;;) {
      const next = await lines.next();
      if (next.done) throw new Error('the command exited before announcing the expected line');
      const a = JSON.parse(next.value as string) as Announced;
      if (match(a)) return a;
    }
  };
}

/** GET /healthz on a fresh connection (no keep-alive). */
function health(port: number): Promise<{ worker: number; pid: number }> {
  return new Promise((resolveHealth, reject) => {
    get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolveHealth(JSON.parse(body) as { worker: number; pid: number }));
    }).on('error', reject);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    // ESRCH: no such process, which is what this asks.
    return false;
  }
}

describe('walker-hub --workers without Redis', () => {
  it('exits with status 2 and says Redis is needed', async () => {
    const result = await run(['--workers', '2'], {}).exited;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('workers (--workers / WALKER_HUB_WORKERS): 2 workers need Redis');
  });
});

withService('walker-hub --workers 2 on Redis', 'REDIS_URL', REDIS_URL, (redisUrl) => {
  describe('walker-hub --workers 2 on Redis', () => {
    it('both workers accept on one port, frames cross workers, a killed worker restarts, SIGTERM drains all', async () => {
      const walkers = tempDir('walkers-');
      writeFileSync(join(walkers, 'whoami.mjs'), "import { defineWalker } from 'walker-hub';\nexport default defineWalker({ auth: false, methods: ['websocket'], run: () => ({ pid: process.pid }) });\n");
      const dataDir = tempDir('walker-hub-workers-');
      const hub = run(['--workers', '2', '--walkers', walkers, '--peer-events', 'public', '--drain-timeout', String(DRAIN_MS), '--demo', 'false'], {
        REDIS_URL: redisUrl,
        WALKER_HUB_REDIS_PREFIX: testPrefix(),
      }, dataDir);
      const next = announcements(hub.child);
      const started = [await next((a) => a.worker !== undefined), await next((a) => a.worker !== undefined)];
      const { port } = await next((a) => a.listening !== undefined);
      expect(started.map((w) => w.worker).sort()).toEqual([0, 1]);
      // The workers share the embedded store's folder; the supervisor holds its lock for them, so
      // another hub started on it is refused.
      const intruder = await run(['--demo', 'false'], {}, dataDir).exited;
      expect(intruder.code).toBe(1);
      expect(intruder.stderr).toContain('is in use by another walker hub');
      const pidOf = new Map(started.map((w) => [w.worker as number, w.pid as number]));

      // Both workers answer on the one port, and /healthz says which one did.
      const answers = await Promise.all(Array.from({ length: PROBES }, () => health(port as number)));
      expect(new Set(answers.map((a) => a.worker))).toEqual(new Set([0, 1]));
      for (const a of answers) expect(a.pid).toBe(pidOf.get(a.worker));

      // One socket on each worker (asked through a walker that reports its process id).
      const byPid = new Map<number, TestClient>();
      for (let i = 0; i < PROBES && byPid.size < 2; i++) {
        const client = await TestClient.connect(`ws://127.0.0.1:${port}/websocket`);
        const reply = (await client.request({ type: 'walker', walker: 'whoami', response: true })) as { reports?: Array<{ pid: number }> };
        const pid = reply.reports?.[0]?.pid as number;
        if (byPid.has(pid)) await client.close();
        else byPid.set(pid, client);
      }
      expect([...byPid.keys()].sort()).toEqual([...pidOf.values()].sort());
      const [sender, receiver] = [byPid.get(pidOf.get(0) as number), byPid.get(pidOf.get(1) as number)] as [TestClient, TestClient];
      await receiver.request({ type: 'subscribe', channel_ids: ['across'] });
      sender.send({ type: 'channel', channel_ids: ['across'], data: { from: 'worker 0' } });
      // Peer frames are delivered verbatim: the data is the frame.
      expect(await receiver.next((f) => JSON.stringify(f).includes('"from":"worker 0"'))).toEqual({ from: 'worker 0' });
      await sender.close();
      await receiver.close();

      // A worker killed outright is started again on the same port.
      process.kill(pidOf.get(1) as number, 'SIGKILL');
      const back = await next((a) => a.worker === 1);
      expect(back.restarts).toBe(1);
      expect(back.pid).not.toBe(pidOf.get(1));
      pidOf.set(1, back.pid as number);
      const after = await Promise.all(Array.from({ length: PROBES }, () => health(port as number)));
      expect(new Set(after.map((a) => a.pid))).toEqual(new Set(pidOf.values()));

      // SIGTERM: every worker drains and exits, then the supervisor, within the drain bound
      // (drain timeout + close grace 1 s + exit margin 0.5 s, plus start-up slack of the signal).
      const t0 = performance.now();
      hub.child.kill('SIGTERM');
      const result = await hub.exited;
      const tookMs = performance.now() - t0;
      expect(result.code).toBe(0);
      expect(tookMs).toBeLessThan(DRAIN_MS + 1000 + 500 + 1000);
      for (const pid of pidOf.values()) expect(alive(pid)).toBe(false);
      const stops = result.stderr.split('\n').filter((l) => l.includes('SIGTERM: shutting down'));
      expect(stops).toHaveLength(2);
    }, 90_000);
  });
});
