/**
 * Cross-node fanout: the fanout scenario's room (one publisher among N subscribers, same window
 * and payload), first on one hub node alone (the in-process broker), then spread over
 * `cluster.nodes` hub nodes on one Redis (subscribers split evenly over the load workers, worker i
 * on node i, the publisher on node 0). Server CPU is every hub node's plus Redis's, read from
 * /proc/<pid>/stat over the measured phase, so the per-delivery figures of the two layouts compare
 * the whole cost of crossing nodes: Redis carries one copy per node, not per subscriber.
 */
import { pickMedian, spreadOf } from '../lib/median.js';
import { systemBusySeconds } from '../lib/procstat.js';
import { errorText, type ClusterResult } from '../lib/results.js';
import { fixed, int } from '../lib/table.js';
import { deliveryFigures, measuredPhases, messagesFor, runPhase, totals } from './channel.js';
import { otherCpu, type Ctx } from './harness.js';
import { Nodes, openSpreadRoom } from './nodes.js';

const SETUP_MS = 120_000;
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** One measured run of `nodeCount` nodes (1: single node, no Redis), on fresh processes. */
export async function clusterRun(ctx: Ctx, nodeCount: number): Promise<ClusterResult> {
  const { fanout: f, cluster: p } = ctx.params;
  const n = p.subscribers;
  const base = { server: 'hub' as const, layout: nodeCount > 1 ? ('cluster' as const) : ('single' as const), nodes: nodeCount, subscribers: n };
  const pacing = { mode: 'window', window: f.window, burst: f.burst } as const;
  let nodes: Nodes | null = null;
  try {
    nodes = await Nodes.start(nodeCount, ctx.params.pin?.server ?? null);
    await openSpreadRoom(ctx.pool, nodes, n, f.concurrency, SETUP_MS);
    const warm = Math.max(10, Math.ceil(f.warmDeliveries / n));
    const warmed = totals(await runPhase(ctx, warm, pacing, f.timeoutMs));
    const rate = warmed.received / warmed.seconds;
    const sizing = { subscribers: n, minDeliveries: f.minDeliveries, maxDeliveries: f.maxDeliveries };
    const first = messagesFor(sizing, rate, p.targetSec);
    ctx.log(`    ${nodeCount} node${nodeCount > 1 ? 's + Redis' : ''}; warm-up ${warm} messages at ${int(rate)} deliveries/s; measuring ${first}`);
    const cpu0 = nodes.cpuSeconds();
    const busy0 = systemBusySeconds();
    const self0 = process.cpuUsage();
    const { msgs, t } = await measuredPhases(ctx, sizing, first, p.targetSec, pacing, f.timeoutMs);
    const self = process.cpuUsage(self0);
    const perProc = nodes.cpuSeconds().map((c, i) => c - (cpu0[i] as number));
    const nodeCpuSec = perProc.slice(0, nodeCount);
    const redisCpuSec = nodes.redis ? (perProc[nodeCount] as number) : 0;
    const serverCpuSec = sum(perProc);
    const window = { serverCpuSec, machineBusySec: systemBusySeconds() - busy0, orchestratorCpuSec: (self.user + self.system) / 1e6 };
    return {
      ...base,
      ...deliveryFigures(msgs, n, t),
      serverCpuSec,
      serverCpuUsPerDelivery: (serverCpuSec * 1e6) / t.received,
      nodeCpuSec,
      redisCpuSec,
      loadCpuSec: t.loadCpuSec,
      otherCpuSec: otherCpu(window, t.loadCpuSec),
    };
  } catch (err) {
    const nan = Number.NaN;
    return { ...base, error: errorText(err), msgs: nan, expected: nan, received: nan, deliveredShare: nan, seconds: nan, deliveriesPerSec: nan, serverCpuSec: nan, serverCpuUsPerDelivery: nan, nodeCpuSec: [], redisCpuSec: nan, loadCpuSec: [], otherCpuSec: nan };
  } finally {
    await ctx.pool.teardown();
    await nodes?.stop();
  }
}

/**
 * Single node and cluster, `repeats` times interleaved (single, cluster, single, cluster, …), each
 * on fresh processes. Each layout's row is the median run by server CPU µs per delivery, the
 * figure the target compares, with the spread over all runs; every run's figures stay in the JSON.
 */
export async function clusterSection(ctx: Ctx): Promise<ClusterResult[]> {
  const p = ctx.params.cluster;
  const runs = new Map<number, ClusterResult[]>();
  for (let rep = 0; rep < p.repeats; rep++) {
    for (const count of [1, p.nodes]) {
      ctx.log(`cluster N=${int(p.subscribers)}  ${count === 1 ? 'single node' : `${count} nodes on one Redis`}`);
      const r = await clusterRun(ctx, count);
      ctx.log(`  ${int(r.deliveriesPerSec)} deliveries/s, ${fixed(r.serverCpuUsPerDelivery, 3)} µs server CPU/delivery over ${fixed(r.seconds, 2)} s (Redis ${fixed(r.redisCpuSec, 2)} s)${r.error ? `  FAILED: ${r.error}` : ''}`);
      runs.set(count, [...(runs.get(count) ?? []), r]);
    }
  }
  return [...runs.values()].flatMap((all) => {
    const mid = pickMedian(all, (r) => r.serverCpuUsPerDelivery);
    if (!mid) return [];
    const summary = all.map((r) => ({ deliveriesPerSec: r.deliveriesPerSec, serverCpuUsPerDelivery: r.serverCpuUsPerDelivery, seconds: r.seconds, otherCpuSec: r.otherCpuSec }));
    const spread = { serverCpuUsPerDelivery: spreadOf(all, (r) => r.serverCpuUsPerDelivery), deliveriesPerSec: spreadOf(all, (r) => r.deliveriesPerSec) };
    return [all.length > 1 ? { ...mid, runs: summary, spread } : mid];
  });
}
