/**
 * `npm start &` then `kill <npm pid>` (what scripts and process managers do) must stop the hub:
 * npm forwards SIGTERM to its script's process, and the script `exec`s node so that process is
 * the hub itself rather than a `sh -c` that would die and leave the hub holding the port.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { announcedPort, killChildren, trackChild } from '../cli-process.js';
import { standaloneEnv, tempDir } from '../helpers.js';

afterEach(killChildren);

/** Resolves with the error code of one connection attempt to `port` ('connected' if it was accepted). */
async function connectOnce(port: number): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return 'connected';
  } catch (err) {
    return String((err as NodeJS.ErrnoException).code);
  } finally {
    socket.destroy();
  }
}

it('SIGTERM to the `npm start` process stops the hub and frees its port', async () => {
  // --silent: npm prints no banner, so stdout carries only the hub's announcement.
  const npm = trackChild(
    spawn('npm', ['start', '--silent', '--', '--port', '0', '--host', '127.0.0.1', '--data-dir', tempDir('walker-hub-npm-')], {
      cwd: resolve(import.meta.dirname, '../..'),
      env: standaloneEnv({ WALKER_HUB_ANNOUNCE: '1' }),
    }),
  );
  let stderr = '';
  npm.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await announcedPort(npm, () => stderr);
  expect(await connectOnce(port)).toBe('connected');
  // 'close' waits for npm's exit and for its stdio pipes to close; the hub holds the same pipes
  // (npm's scripts inherit them), so this also waits for the hub to exit.
  const closed = once(npm, 'close');
  npm.kill('SIGTERM');
  await closed;
  expect(stderr).toContain('SIGTERM: shutting down');
  expect(await connectOnce(port)).toBe('ECONNREFUSED');
});
