/**
 * Subscribe latency (Walker Hub only): how long a `subscribe` waits for its `subscribed`, which
 * leaves once the broker confirmed the subscription (src/hub/hold.ts). The probe's sockets, in no
 * room, each subscribe in turn to a channel never used before (so every one is a new topic for the
 * broker) and unsubscribe again; on one node (the in-process broker answers at once) and on
 * `cluster.nodes` nodes on one Redis of the bench's own (a SUBSCRIBE round trip before the reply),
 * for plain channels and channels of a namespace with presence. Nothing else runs meanwhile.
 */
import { errorText, type SubscribeResult } from '../lib/results.js';
import { fixed, int } from '../lib/table.js';
import type { Ctx } from './harness.js';
import { failed } from './measure.js';
import { Nodes } from './nodes.js';
import { channelsArgs, nanTimings, PRESENCE_NAMESPACE, probe, timings } from './probe.js';

const CHANNELS = ['plain', 'presence'] as const;

export async function subscribeSection(ctx: Ctx): Promise<SubscribeResult[]> {
  const p = ctx.params.subscribe;
  const out: SubscribeResult[] = [];
  for (const count of [1, ctx.params.cluster.nodes]) {
    const layout = count > 1 ? ('cluster' as const) : ('single' as const);
    const where = count > 1 ? `${count} nodes on one Redis` : 'single node';
    let nodes: Nodes | null = null;
    try {
      nodes = await Nodes.start(count, ctx.params.pin?.server ?? null, channelsArgs());
    } catch (err) {
      ctx.log(`subscribe  ${where}: SKIPPED, the nodes did not start: ${errorText(err)}`);
      out.push(...CHANNELS.map((channels) => ({ server: 'hub' as const, layout, nodes: count, channels, connections: p.connections, error: errorText(err), ...nanTimings })));
      continue;
    }
    try {
      for (const channels of CHANNELS) {
        ctx.log(`subscribe  ${where}  ${channels} channels  ${p.connections} sockets × ${p.rounds} fresh channels each`);
        const base = { server: 'hub' as const, layout, nodes: count, channels, connections: p.connections };
        const prefix = `${channels === 'presence' ? `${PRESENCE_NAMESPACE}:` : ''}sub-${Date.now().toString(36)}-`;
        let r: SubscribeResult;
        try {
          const port = (nodes.hubs[0] as Nodes['hubs'][number]).port;
          const t = await probe(ctx, { type: 'subscribe-latency', port, connections: p.connections, rounds: p.rounds, prefix }, 120_000);
          r = { ...base, ...timings(t) };
        } catch (err) {
          r = { ...base, error: errorText(err), ...nanTimings };
        }
        ctx.log(`  p50 ${fixed(r.p50Ms, 2)} ms, p99 ${fixed(r.p99Ms, 2)} ms, max ${fixed(r.maxMs, 2)} ms over ${int(r.samples)} subscribes${failed(r)}`);
        out.push(r);
      }
    } finally {
      await nodes.stop();
    }
  }
  return out;
}
