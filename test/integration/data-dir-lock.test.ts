/**
 * One hub per `--data-dir`, with the real command: a second hub is refused with a clear message
 * and status 1 while the first keeps serving; the lock of a killed hub is taken over; a clean stop
 * removes it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { announcedPort, HUB_BIN, killChildren, trackChild } from '../cli-process.js';
import { standaloneEnv, tempDir } from '../helpers.js';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../../src/store/data-dir-lock.js';

afterEach(killChildren);

function run(dataDir: string) {
  const child = trackChild(
    spawn(process.execPath, [HUB_BIN, '--port', '0', '--data-dir', dataDir, '--demo', 'false'], {
      cwd: resolve(import.meta.dirname, '../..'),
      env: standaloneEnv({ WALKER_HUB_ANNOUNCE: '1', WALKER_HUB_LOG_FORMAT: 'json' }),
    }),
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr }));
  return { child, exited, stderr: () => stderr };
}

const lockOf = (dir: string) => JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number; hostname: string; started_at: string };

describe('one hub per --data-dir', () => {
  it('refuses a second hub on the same folder (status 1, naming the first one) while the first keeps serving', async () => {
    const dir = tempDir('walker-hub-lock-');
    const first = run(dir);
    const port = await announcedPort(first.child, first.stderr);
    expect(lockOf(dir)).toMatchObject({ pid: first.child.pid, hostname: hostname() });

    const second = await run(dir).exited;
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`data folder ${dir} is in use by another walker hub (pid ${first.child.pid}, since `);
    expect(second.stderr).toContain('give this one its own --data-dir');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(lockOf(dir).pid).toBe(first.child.pid);

    // A clean stop removes the lock.
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('takes over the lock of a hub that was killed, and of a lock file it cannot read', async () => {
    const dir = tempDir('walker-hub-lock-');
    const killed = run(dir);
    await announcedPort(killed.child, killed.stderr);
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect(lockOf(dir).pid).toBe(killed.child.pid);

    const next = run(dir);
    await announcedPort(next.child, next.stderr);
    expect(lockOf(dir).pid).toBe(next.child.pid);
    next.child.kill('SIGKILL');
    await next.exited;

    writeFileSync(join(dir, LOCK_FILE), 'not json');
    const after = run(dir);
    await announcedPort(after.child, after.stderr);
    expect(lockOf(dir).pid).toBe(after.child.pid);
  });

  it('refuses a lock from another host, saying which file to delete once that hub is gone', async () => {
    const dir = tempDir('walker-hub-lock-');
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 4242, hostname: 'some-other-host', started_at: '2026-01-01T00:00:00.000Z' }));
    const refused = await run(dir).exited;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('(pid 4242 on host some-other-host, since 2026-01-01T00:00:00.000Z)');
    expect(refused.stderr).toContain(`if that hub is gone, delete ${join(dir, LOCK_FILE)}`);
  });

  it('holds within one process too: a second lock is refused until the first is released', () => {
    const dir = tempDir('walker-hub-lock-');
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    lockDataDir(dir).release();
  });
});
