/**
 * Start-up cost: the MongoDB driver and ioredis load only in a hub configured to use them. Each
 * case runs a fresh process (test/fixtures/loaded-drivers.ts), since a module once loaded stays.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REDIS_URL, withService } from '../broker-helpers.js';
import { standaloneEnv, tempDir } from '../helpers.js';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/loaded-drivers.ts');
const MONGODB_URL = process.env['MONGODB_URL'];

async function loadedDrivers(env: Record<string, string>): Promise<{ mongodb: boolean; ioredis: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, tempDir('walker-hub-drivers-')], { cwd: resolve(import.meta.dirname, '../..'), env: standaloneEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as { mongodb: boolean; ioredis: boolean };
}

describe('database drivers at start-up', () => {
  it('a hub on its embedded store without Redis loads neither the MongoDB driver nor ioredis', async () => {
    expect(await loadedDrivers({})).toEqual({ mongodb: false, ioredis: false });
  });
});

withService('database drivers with Redis configured', 'REDIS_URL', REDIS_URL, (redisUrl) => {
  it('loads ioredis, and still not the MongoDB driver', async () => {
    expect(await loadedDrivers({ REDIS_URL: redisUrl })).toEqual({ mongodb: false, ioredis: true });
  });
});

withService('database drivers with MongoDB configured', 'MONGODB_URL', MONGODB_URL, (mongodbUrl) => {
  it('loads the MongoDB driver, and still not ioredis', async () => {
    const url = new URL(mongodbUrl);
    url.pathname = "/walker_hub_lazy_drivers";
    expect(await loadedDrivers({ MONGODB_URL: url.href })).toEqual({ mongodb: true, ioredis: false });
  });
});
