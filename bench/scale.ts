/**
 * `npm run bench:scale [-- --nodes=5 --per-node=19000 --msgs=20]`: the scale run (not part of
 * `npm run bench`). `--nodes` hub nodes on one Redis of its own, each holding `--per-node` idle
 * WebSocket connections of one room from its own load process (one process may hold at most
 * 20,000 open files here, a hard limit), then a channel fanout from one publisher (on node 0) to
 * every connection. Reports the connect rate, each node's RSS per connection and deliveries/s,
 * prints them and writes bench/results/scale.json.
 *
 * Load processes connect from 127.0.0.x source addresses of their own (two each), so no address
 * runs out of ephemeral ports and the loopback ports of 127.0.0.1, which other jobs use, are left
 * alone. Loopback only; bounded: the whole run stops itself after `--max-minutes` (default 15),
 * and every process it started is stopped on the way out, error, signal or not.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { killAllNow, liveCount, repoRoot, stopAll } from './lib/children.js';
import { machineInfo, packageVersions } from './lib/machine.js';
import { rssBytes, systemBusySeconds } from './lib/procstat.js';
import { fixed, int, mb, table } from './lib/table.js';
import { deliveryFigures, runPhase, totals } from './scenarios/channel.js';
import { delay, LoadPool, type Ctx } from './scenarios/harness.js';
import { Nodes, openSpreadRoom } from './scenarios/nodes.js';
import { parseParams } from './lib/params.js';

const RESULTS_FILE = resolve(repoRoot, 'bench/results/scale.json');
const startedAt = Date.now();
const log = (line: string) => process.stdout.write(`[${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

function option(name: string, fallback: number, min: number, max: number): number {
  const arg = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  if (arg === undefined) return fallback;
  const value = Number.parseInt(arg.slice(name.length + 3), 10);
  if (!(value >= min && value <= max)) throw new Error(`--${name}: expected an integer in ${min}..${max}`);
  return value;
}

async function main(): Promise<void> {
  const unknown = process.argv.slice(2).find((a) => !/^--(nodes|per-node|msgs|concurrency|max-minutes)=\d+$/.test(a));
  if (unknown !== undefined) throw new Error(`unknown argument "${unknown}" (expected --nodes=, --per-node=, --msgs=, --concurrency=, --max-minutes=)`);
  const nodeCount = option('nodes', 5, 2, 8);
  // Below 20,000 open files per process: the sockets plus the process's own files and Redis connections.
  const perNode = option('per-node', 19_000, 10, 19_500);
  const msgs = option('msgs', 20, 1, 1000);
  const concurrency = option('concurrency', 128, 1, 1024);
  const maxMinutes = option('max-minutes', 15, 1, 60);
  const total = nodeCount * perNode;
  const machine = machineInfo();
  log(`scale run: ${nodeCount} hub nodes × ${int(perNode)} connections = ${int(total)} on one Redis; ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(0)} GiB`);
  const deadline = setTimeout(() => {
    log(`still running after ${maxMinutes} min: stopping every process`);
    killAllNow();
    process.exit(1);
  }, maxMinutes * 60_000);
  deadline.unref();

  // The fanout's pacing (window, burst) and phase timeout, from the main benchmark's defaults.
  const params = parseParams([]);
  const pool = await LoadPool.start(nodeCount, null);
  const ctx: Ctx = { params, pool, log, elapsedSec: () => (Date.now() - startedAt) / 1000 };
  const nodes = await Nodes.start(nodeCount, null);
  try {
    // Start-up garbage is collected and its pages returned before the baseline is read.
    await delay(3000);
    const heapBefore = await Promise.all(nodes.hubs.map((h) => h.gc()));
    await delay(1000);
    await Promise.all(nodes.hubs.map((h) => h.gc()));
    const rssBefore = nodes.hubs.map((h) => h.rssBytes());

    log(`nodes up (ports ${nodes.hubs.map((h) => h.port).join(', ')}), Redis on ${nodes.redis?.port ?? '—'}; connecting ${int(total)} sockets, ${concurrency} upgrades in flight per load process`);
    // Worker i connects from 127.0.0.(10+2i) and 127.0.0.(11+2i).
    const ready = await openSpreadRoom(pool, nodes, total, concurrency, maxMinutes * 60_000, (i) => [`127.0.0.${10 + 2 * i}`, `127.0.0.${11 + 2 * i}`]);
    const connectSec = (Math.max(...ready.map((r) => r.readyAt)) - Math.min(...ready.map((r) => r.startedAt))) / 1000;
    log(`${int(total)} connected in ${fixed(connectSec, 1)} s (${int(total / connectSec)} connects/s); every node subscribed in Redis`);
    await delay(2000);
    const counts = await Promise.all(nodes.hubs.map((h) => h.connections()));
    if (counts.reduce((a, b) => a + b, 0) !== total) throw new Error(`the nodes count ${counts.join('+')} connections, expected ${total}`);
    const heapAfter = await Promise.all(nodes.hubs.map((h) => h.gc()));
    const rssAfter = nodes.hubs.map((h) => h.rssBytes());

    const pacing = { mode: 'window', window: params.fanout.window, burst: params.fanout.burst } as const;
    log(`fanout: warm-up 2 messages to ${int(total)} subscribers`);
    totals(await runPhase(ctx, 2, pacing, params.fanout.timeoutMs));
    log(`fanout: measuring ${msgs} messages (${int(msgs * total)} deliveries)`);
    const cpu0 = nodes.cpuSeconds();
    const busy0 = systemBusySeconds();
    const t = totals(await runPhase(ctx, msgs, pacing, params.fanout.timeoutMs));
    const cpu = nodes.cpuSeconds().map((c, i) => c - (cpu0[i] as number));
    const busy = systemBusySeconds() - busy0;
    const expected = msgs * total;
    const perNodeRows = nodes.hubs.map((h, i) => ({
      node: i,
      connections: counts[i] as number,
      rssBeforeBytes: rssBefore[i] as number,
      rssAfterBytes: rssAfter[i] as number,
      rssKBPerConnection: ((rssAfter[i] as number) - (rssBefore[i] as number)) / 1024 / (counts[i] as number),
      heapKBPerConnection: ((heapAfter[i] as number) - (heapBefore[i] as number)) / 1024 / (counts[i] as number),
      fanoutCpuSec: cpu[i] as number,
    }));
    const record = {
      generatedAt: new Date().toISOString(),
      durationSec: (Date.now() - startedAt) / 1000,
      machine,
      packages: packageVersions(),
      nodes: nodeCount,
      perNode,
      connections: total,
      connectSec,
      connectsPerSec: total / connectSec,
      perNodeRows,
      redisRssBytes: nodes.redis ? rssBytes(nodes.redis.pid) : Number.NaN,
      fanout: {
        ...deliveryFigures(msgs, total, t),
        incompleteSockets: t.incompleteSockets,
        nodeCpuSec: cpu.slice(0, nodeCount),
        redisCpuSec: nodes.redis ? (cpu[nodeCount] as number) : 0,
        serverCpuUsPerDelivery: (cpu.reduce((a, b) => a + b, 0) * 1e6) / t.received,
        loadCpuSec: t.loadCpuSec,
        machineBusySec: busy,
      },
    };
    mkdirSync(resolve(RESULTS_FILE, '..'), { recursive: true });
    writeFileSync(RESULTS_FILE, JSON.stringify(record, null, 2) + '\n');
    process.stdout.write(
      '\n' +
        table(
          ['node', 'connections', 'RSS before MB', 'RSS after MB', 'RSS KB/conn', 'JS heap KB/conn', 'fanout CPU s'],
          perNodeRows.map((r) => [String(r.node), int(r.connections), mb(r.rssBeforeBytes), mb(r.rssAfterBytes), fixed(r.rssKBPerConnection, 2), fixed(r.heapKBPerConnection, 2), fixed(r.fanoutCpuSec, 2)]),
        ) +
        `\n\n${int(total)} connections in ${fixed(connectSec, 1)} s: ${int(record.connectsPerSec)} connects/s. ` +
        `Fanout: ${msgs} messages × ${int(total)} = ${int(t.received)} of ${int(expected)} deliveries in ${fixed(t.seconds, 2)} s: ` +
        `${int(record.fanout.deliveriesPerSec)} deliveries/s, ${fixed(record.fanout.serverCpuUsPerDelivery, 3)} µs server CPU/delivery ` +
        `(Redis ${fixed(record.fanout.redisCpuSec, 2)} s CPU, ${mb(record.redisRssBytes)} MB RSS).\n\n`,
    );
    log(`wrote ${RESULTS_FILE}`);
  } finally {
    await pool.teardown().catch((err: unknown) => log(`teardown: ${err instanceof Error ? err.message : String(err)}`));
    await nodes.stop();
    await stopAll();
    log(`${liveCount()} child processes left`);
  }
}

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll().finally(() => process.exit(1)));
main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    killAllNow();
    process.exit(1);
  },
);
