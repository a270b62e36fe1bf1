/** The seed document's examples, replayed by a standalone script that uses only `ws`. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startHub, stopAll, TEST_SECRET } from '../helpers.js';

afterAll(stopAll);

describe('jac-cloud seed examples', () => {
  it('examples/seed-client.mjs reproduces every example against a running hub', async () => {
    const hub = await startHub();
    const script = resolve(import.meta.dirname, '../../examples/seed-client.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [script, hub.url], {
      env: { ...process.env, WALKER_HUB_JWT_SECRET: TEST_SECRET },
      timeout: 15_000,
    });
    expect(stdout).toContain('all seed examples reproduced');
    expect(stdout.match(/^ok /gm)?.length).toBe(13);
  });
});
