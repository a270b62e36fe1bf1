/**
 * CI runs the standalone conformance suite (conformance/run.mjs, as `npm run conformance` does)
 * against real hubs in both profiles, and once against the wrong profile to show it can fail.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../../src/node.js';
import { standaloneEnv, startHub, stopAll, TEST_SECRET } from '../helpers.js';

afterAll(stopAll);

const SCRIPT = resolve(import.meta.dirname, '../../conformance/run.mjs');

function runSuite(hub: RunningHub, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [SCRIPT, `ws://127.0.0.1:${hub.port}`, ...args], { env: standaloneEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', fail);
    child.once('exit', (code) => done({ code, out }));
  });
}

describe('conformance suite', () => {
  for (const profile of ['jac-cloud', 'native'] as const) {
    it(`passes against the hub in the ${profile} profile`, async () => {
      const hub = await startHub({ protocol: profile });
      const { code, out } = await runSuite(hub, ['--profile', profile, '--secret', TEST_SECRET, '--extensions']);
      expect(out).toMatch(/\n\d+ passed, 0 failed\n$/);
      expect(out).not.toMatch(/^skip/m);
      expect(code, out).toBe(0);
    }, 30_000);
  }

  it('fails, naming the checks, when the server speaks the other profile', async () => {
    const hub = await startHub({ protocol: 'native' });
    const { code, out } = await runSuite(hub, ['--profile', 'jac-cloud', '--secret', TEST_SECRET, '--timeout', '1000']);
    expect(out).toMatch(/^FAIL {2}handshake with a bad token: connects as public/m);
    expect(out).toMatch(/^FAIL {2}REST: no token on an auth walker is 403/m);
    expect(out).toMatch(/\n\d+ passed, [1-9]\d* failed\n$/);
    expect(code).toBe(1);
  }, 30_000);
});
