/**
 * The hub's CPU while flooded past its open-file limit: starts the real command under
 * `prlimit --nofile=N`, fills its descriptors with idle TCP sockets, then keeps connections arriving
 * for a while and prints the hub's CPU share over that window (Linux only).
 *
 *   node --import tsx bench/tools/fd-flood.ts [--no-guard] [--nofile=300] [--seconds=3] [--bin=bin/walker-hub.js]
 *
 * `--no-guard` sets WALKER_HUB_FD_GUARD=0 (uWS then retries `accept` on EMFILE: ~80-95% of a core).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { announcedPort } from '../lib/announce.js';
import { cpuSeconds } from '../lib/procstat.js';
import { arg } from '../lib/arg.js';

const nofile = Number(arg('nofile', '300'));
const seconds = Number(arg('seconds', '3'));
const bin = resolve(arg('bin', resolve(import.meta.dirname, '../../bin/walker-hub.js')));
const guard = !process.argv.includes('--no-guard');

const dir = mkdtempSync(join(tmpdir(), 'walker-hub-fd-flood-'));
const child = spawn('/usr/bin/prlimit', [`--nofile=${nofile}:${nofile}`, process.execPath, bin, '--port', '0', '--data-dir', join(dir, 'data')], {
  env: { ...process.env, WALKER_HUB_ANNOUNCE: '1', WALKER_HUB_LOG_LEVEL: 'warn', WALKER_HUB_FD_GUARD: guard ? '1' : '0' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const held: Socket[] = [];
try {
  const port = await announcedPort(child.stdout);
  const pid = child.pid as number;
  const open = () => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => socket.destroy());
    return socket;
  };
  // More idle sockets than the limit leaves; the kernel queues the rest in the listen backlog.
  for (let i = 0; i < nofile + 20; i++) held.push(open());
  await new Promise((r) => setTimeout(r, 500));

  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let attempts = 0;
  const attempt = () =>
    new Promise<void>((done) => {
      attempts++;
      const socket = open();
      const finish = () => {
        clearTimeout(timer);
        socket.destroy();
        done();
      };
      const timer = setTimeout(finish, Math.max(1, end - performance.now()));
      socket.once('connect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n'));
      socket.once('data', finish);
      socket.once('close', finish);
    });
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (performance.now() < end) await attempt();
    }),
  );
  const share = (cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000);
  console.log(`guard ${guard ? 'on' : 'off'}, nofile ${nofile}: hub CPU ${(share * 100).toFixed(1)}% of a core over ${seconds} s (${attempts} connection attempts)`);
} finally {
  for (const s of held) s.destroy();
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
