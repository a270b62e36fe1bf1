/**
 * Walker Hub itself, through createHub, with the bench walkers; peer frames open to public
 * connections. Anything the hub stores goes to a fresh temporary folder, removed on exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig } from '../../src/config.js';
import { createHub } from '../../src/node.js';
import { HOST, limits, serve } from './child.js';

// The bench walkers import `walker-hub`, which the package exports as its built dist/; map it to
// the sources, as the walker-hub command does (bin/walker-hub.js).
register('../../src/walkers/resolve-hook.ts', import.meta.url);

/** `--channels=FILE`: the channels file (namespaces, presence), for the presence and subscribe scenarios. */
const channelsFile = process.argv.find((a) => a.startsWith('--channels='))?.slice('--channels='.length);

serve(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'walker-hub-bench-'));
  process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const config = parseConfig({
    host: HOST,
    port: 0,
    walkersDir: resolve(import.meta.dirname, '../walkers'),
    peerEvents: 'public',
    // `--protocol=jac-cloud` (the walker-call scenario measures both wire profiles).
    protocol: process.argv.includes('--protocol=jac-cloud') ? 'jac-cloud' : 'native',
    logLevel: 'silent',
    maxPayloadBytes: limits.maxPayloadBytes,
    maxBackpressureBytes: limits.maxBackpressureBytes,
    idleTimeoutSec: limits.idleTimeoutSec,
    // Ignored (stripped) by hub versions without a store.
    dataDir,
    // The other servers have no abuse limits, and every bench client comes from one address at full
    // speed: connection caps are off (ignored by versions that predate them). The frame budget stays
    // on, at a rate no bench publisher reaches, so its per-frame cost is part of what is measured.
    frameRate: 1_000_000,
    frameBurst: 1_000_000,
    maxConnections: 0,
    maxConnectionsPerIp: 0,
    ...(channelsFile ? { channelsFile } : {}),
    // A cluster node (bench/scenarios/nodes.ts): the broker runs over this Redis.
    ...(process.env['BENCH_REDIS_URL'] ? { redisUrl: process.env['BENCH_REDIS_URL'], redisPrefix: process.env['BENCH_REDIS_PREFIX'] ?? 'bench:' } : {}),
  });
  const running = await createHub({ config });
  return { port: running.port, connections: () => running.hub.counts().clients, close: () => running.close() };
});
