/**
 * What permessage-deflate costs and saves: starts the real command once per `--compression` mode
 * (off, shared, dedicated), connects `--clients` sockets of one user (all offering deflate, as
 * browsers do), sends `--messages` chat lines to that user through the send_chat_to_user walker
 * over REST, and prints per delivery: bytes on the wire (the clients' TCP bytes read, frame
 * headers included) and the hub's CPU (user + system; the REST calls are included, spread over
 * `--clients` deliveries each). Linux only (reads /proc).
 *
 *   node --import tsx bench/tools/compression.ts [--clients=100] [--messages=2000] [--bin=bin/walker-hub.js]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { announcedPort } from '../lib/announce.js';
import { cpuSeconds } from '../lib/procstat.js';
import { arg } from '../lib/arg.js';

const clients = Number(arg('clients', '100'));
const messages = Number(arg('messages', '2000'));
const bin = resolve(arg('bin', resolve(import.meta.dirname, '../../bin/walker-hub.js')));
/** REST calls in flight at once. */
const CONCURRENCY = 8;
const SECRET = 'bench-secret-that-is-at-least-32-characters-long';

// A chat line as people write them: 8-30 common words, so consecutive frames share vocabulary
// and keys (what a dedicated window can exploit) but no two are the same.
const WORDS = (
  'the a to and of in is it you that for on are with this be have at not we but can so what just ' +
  'meeting tomorrow morning deploy release branch review thanks great sounds good let me check ' +
  'coffee lunch later today again sure done working on it fixed pushed merged tests green red ' +
  'customer ticket issue bug feature question answer call now please update status channel room'
).split(' ');
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const chatLine = () => Array.from({ length: 8 + Math.floor(random() * 23) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');

interface Result {
  mode: string;
  bytesPerDelivery: number;
  cpuUsPerDelivery: number;
  negotiated: string;
}

async function measure(mode: 'off' | 'shared' | 'dedicated'): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'walker-hub-compression-'));
  const child = spawn(process.execPath, [bin, '--port', '0', '--data-dir', join(dir, 'data'), '--compression', mode, '--frame-rate', '0', '--max-connections-per-ip', '0'], {
    env: { ...process.env, WALKER_HUB_ANNOUNCE: '1', WALKER_HUB_LOG_LEVEL: 'warn', WALKER_HUB_JWT_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const sockets: WebSocket[] = [];
  try {
    const port = await announcedPort(child.stdout);
    const rootId = 'n::0000000000000000000000aa';
    const token = await new SignJWT({ root_id: rootId }).setProtectedHeader({ alg: 'HS256' }).setSubject('bench').setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
    const tcp: Socket[] = [];
    let delivered = 0;
    let onDelivered: () => void = () => undefined;
    for (let i = 0; i < clients; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/websocket`, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: true });
      const upgraded = once(ws, 'upgrade') as Promise<[{ socket: Socket }]>;
      const first = once(ws, 'message');
      const [[res]] = await Promise.all([upgraded, first]);
      tcp.push(res.socket);
      ws.on('message', () => {
        delivered++;
        onDelivered();
      });
      sockets.push(ws);
    }
    const negotiated = sockets[0]?.extensions === '' ? 'none' : (sockets[0]?.extensions ?? '');
    const target = messages * clients;
    const allDelivered = new Promise<void>((done) => (onDelivered = () => delivered >= target && done()));
    const bytes0 = tcp.reduce((sum, s) => sum + s.bytesRead, 0);
    const cpu0 = cpuSeconds(child.pid as number);
    let next = 0;
    const worker = async () => {
      while (next < messages) {
        next++;
        const res = await fetch(`http://127.0.0.1:${port}/walker/send_chat_to_user`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ root_id: rootId, message: chatLine() }),
        });
        if (res.status !== 200) throw new Error(`walker call failed: ${res.status} ${await res.text()}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await allDelivered;
    const cpu = cpuSeconds(child.pid as number) - cpu0;
    const bytes = tcp.reduce((sum, s) => sum + s.bytesRead, 0) - bytes0;
    return { mode, bytesPerDelivery: bytes / target, cpuUsPerDelivery: (cpu * 1e6) / target, negotiated };
  } finally {
    for (const ws of sockets) ws.terminate();
    child.kill('SIGTERM');
    await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Result[] = [];
for (const mode of ['off', 'shared', 'dedicated'] as const) results.push(await measure(mode));
const avgLine = Array.from({ length: 200 }, chatLine).reduce((s, l) => s + l.length, 0) / 200;
console.log(`${clients} sockets of one user, ${messages} chat lines (~${Math.round(avgLine)} characters of text each), every client offering permessage-deflate`);
console.log('| compression | negotiated | bytes on the wire per delivery | hub CPU per delivery (µs) |');
console.log('| --- | --- | ---: | ---: |');
for (const r of results) console.log(`| ${r.mode} | ${r.negotiated} | ${r.bytesPerDelivery.toFixed(1)} | ${r.cpuUsPerDelivery.toFixed(2)} |`);
