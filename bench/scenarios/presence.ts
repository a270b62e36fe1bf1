/**
 * Presence (Walker Hub only). Fanout with presence on vs off: the fanout's room as a channel of a
 * namespace with presence (join/leave off) and as a plain channel, on the same hub build with the
 * same channels file, `presenceFanout.repeats` interleaved runs each; the target compares server CPU
 * per delivery. Presence of a big channel: `presence.members` members, the probe among them, asking
 * `presence` one request at a time; on one node (the registry answers) and on `cluster.nodes` nodes on
 * one Redis of the bench's own (presence kept in Redis, src/presence/redis.ts).
 */
import { pickMedian, spreadOf } from '../lib/median.js';
import { errorText, type PresenceFanoutResult, type PresenceResult } from '../lib/results.js';
import { fixed, int } from '../lib/table.js';
import { ROOM } from './channel.js';
import { fanout } from './fanout.js';
import type { Ctx } from './harness.js';
import { failed, launchAll, measure } from './measure.js';
import { Nodes, openSpreadRoom } from './nodes.js';
import { channelsArgs, nanTimings, PRESENCE_NAMESPACE, probe, timings } from './probe.js';

const SETUP_MS = 180_000;

export async function presenceFanoutSection(ctx: Ctx): Promise<PresenceFanoutResult[]> {
  const { presenceFanout: p } = ctx.params;
  const n = p.subscribers;
  const args = channelsArgs();
  const plan = Array.from({ length: p.repeats }, () => [false, true].map((presence) => ({ kind: 'hub' as const, presence }))).flat();
  ctx.log('presence fanout');
  const done = new Map<boolean, PresenceFanoutResult[]>();
  for (const { presence, server } of await launchAll(ctx, plan, args)) {
    const room = presence ? `${PRESENCE_NAMESPACE}:${ROOM}` : ROOM;
    ctx.log(`presence fanout  N=${int(n)}  ${presence ? `presence on (${room})` : `plain channel (${room})`}`);
    const r = await measure(ctx, 'hub', server, (s) => fanout(ctx, 'hub', s, n, room), args);
    ctx.log(`  ${int(r.deliveriesPerSec)} deliveries/s, ${fixed(r.serverCpuUsPerDelivery, 3)} µs server CPU/delivery, ${fixed(r.deliveredShare * 100, 2)}% delivered${failed(r)}`);
    done.set(presence, [...(done.get(presence) ?? []), { ...r, presence }]);
  }
  return [...done.values()].flatMap((runs) => {
    // By CPU per delivery: the figure the target compares.
    const mid = pickMedian(runs, (r) => r.serverCpuUsPerDelivery);
    if (!mid) return [];
    const summary = runs.map((r) => ({ deliveriesPerSec: r.deliveriesPerSec, serverCpuUsPerDelivery: r.serverCpuUsPerDelivery, otherCpuSec: r.otherCpuSec }));
    const spread = { deliveriesPerSec: spreadOf(runs, (r) => r.deliveriesPerSec), serverCpuUsPerDelivery: spreadOf(runs, (r) => r.serverCpuUsPerDelivery) };
    return [runs.length > 1 ? { ...mid, runs: summary, spread } : mid];
  });
}

/** One layout: `count` nodes (1: no Redis), the members spread over them, the probe on node 0. */
async function presenceRun(ctx: Ctx, count: number): Promise<PresenceResult> {
  const p = ctx.params.presence;
  const room = `${PRESENCE_NAMESPACE}:big`;
  const base = { server: 'hub' as const, layout: count > 1 ? ('cluster' as const) : ('single' as const), nodes: count, members: p.members + 1 };
  let nodes: Nodes | null = null;
  try {
    try {
      nodes = await Nodes.start(count, ctx.params.pin?.server ?? null, channelsArgs());
    } catch (err) {
      ctx.log(`  SKIPPED: the nodes did not start: ${errorText(err)}`);
      throw err;
    }
    await openSpreadRoom(ctx.pool, nodes, p.members, ctx.params.fanout.concurrency, SETUP_MS, () => [], room);
    ctx.log(`    ${int(p.members)} members connected; asking presence until all ${int(base.members)} are listed, then ${p.samples} times`);
    const port = (nodes.hubs[0] as Nodes['hubs'][number]).port;
    const t = await probe(ctx, { type: 'presence', port, channel: room, members: base.members, samples: p.samples, settleMs: p.settleMs }, p.settleMs + p.samples * 2000 + 60_000);
    return { ...base, ...timings(t), clients: t.clients, replyBytes: t.replyBytes };
  } catch (err) {
    return { ...base, error: errorText(err), ...nanTimings, clients: Number.NaN, replyBytes: Number.NaN };
  } finally {
    await ctx.pool.teardown();
    await nodes?.stop();
  }
}

export async function presenceSection(ctx: Ctx): Promise<PresenceResult[]> {
  const out: PresenceResult[] = [];
  for (const count of [1, ctx.params.cluster.nodes]) {
    ctx.log(`presence  ${int(ctx.params.presence.members)} members  ${count > 1 ? `${count} nodes on one Redis` : 'single node'}`);
    const r = await presenceRun(ctx, count);
    ctx.log(`  p50 ${fixed(r.p50Ms, 2)} ms, p99 ${fixed(r.p99Ms, 2)} ms, max ${fixed(r.maxMs, 2)} ms over ${int(r.samples)} requests; ${int(r.clients)} clients, ${int(r.replyBytes)} B per reply${failed(r)}`);
    out.push(r);
  }
  return out;
}
