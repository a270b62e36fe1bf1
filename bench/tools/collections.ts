/**
 * The collections bench on its own (the `collections` scenario of `npm run bench`, see
 * bench/scenarios/collections.ts), printing a table:
 *
 *   node --import tsx bench/tools/collections.ts [--subscribers=1000] [--writes=2000] [--window=16] [--bin=bin/walker-hub.js]
 */
import { resolve } from 'node:path';
import { measureCollections } from '../scenarios/collections.js';
import { arg } from '../lib/arg.js';

const subscribers = Number(arg('subscribers', '1000'));
const writes = Number(arg('writes', '2000'));
const window = Number(arg('window', '16'));
const bin = resolve(arg('bin', resolve(import.meta.dirname, '../../bin/walker-hub.js')));

const rows = await measureCollections({ subscribers, writes, window, bin });
console.log(`${subscribers} subscribers of one user, ${writes} writes (${window} in flight), embedded store (LMDB, fsync per commit)`);
console.log('| fanout | events/s delivered | hub CPU per delivery (µs) | write latency p50 / p99 (ms) |');
console.log('| --- | ---: | ---: | ---: |');
for (const r of rows) {
  const name = r.fanout === 'checked' ? 'item creates, each event checked (owner access + filter) per subscriber' : 'channel frames, no checks';
  const latency = r.writeP50Ms === null || r.writeP99Ms === null ? '–' : `${r.writeP50Ms.toFixed(1)} / ${r.writeP99Ms.toFixed(1)}`;
  console.log(`| ${name} | ${Math.round(r.eventsPerSec)} | ${r.serverCpuUsPerDelivery.toFixed(2)} | ${latency} |`);
}
