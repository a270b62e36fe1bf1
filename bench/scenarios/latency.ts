/**
 * Latency: the fanout room at N = 1,000 with messages at a fixed offered rate. Each payload
 * carries its send time; ~100 subscribers (spread over the load processes) decode every frame and
 * record receive time minus send time. Messages of the first `warmSec` are not sampled.
 */
import type { ServerKind } from '../lib/messages.js';
import { quantile } from '../lib/median.js';
import { errorText, type LatencyResult } from '../lib/results.js';
import { openRoom, runPhase, totals } from './channel.js';
import { openCpuWindow, otherCpu, withServer, type Ctx, type Server } from './harness.js';

export async function latency(
  ctx: Ctx,
  kind: ServerKind,
  launched: Promise<Server>,
  offeredMsgsPerSec: number,
  label: LatencyResult['label'],
): Promise<LatencyResult> {
  const p = ctx.params.latency;
  const msgs = Math.max(1, Math.round(offeredMsgsPerSec * p.durationSec));
  const base = { server: kind, label, subscribers: p.subscribers, offeredMsgsPerSec, msgs };
  try {
    if (!Number.isFinite(offeredMsgsPerSec) || offeredMsgsPerSec <= 0) throw new Error('no peak rate from the fanout run at this N');
    return await withServer(ctx, launched, async (server) => {
      await openRoom(ctx, server, p.subscribers, p.samples);
      ctx.log(`    ${p.subscribers} subscribers connected; ${msgs} messages at ${offeredMsgsPerSec.toFixed(0)}/s`);
      const stop = await openCpuWindow(ctx, server, `latency-${label}-${kind}`);
      const timeoutMs = p.durationSec * 3000 + 20_000;
      const reports = await runPhase(ctx, msgs, { mode: 'rate', perSec: offeredMsgsPerSec }, timeoutMs, Math.round(offeredMsgsPerSec * p.warmSec));
      const cpu = await stop();
      const t = totals(reports);
      const sorted = Float64Array.from(reports.flatMap((r) => [...r.latencies])).sort();
      return {
        ...base,
        seconds: t.seconds,
        samples: sorted.length,
        p50Ms: quantile(sorted, 0.5),
        p99Ms: quantile(sorted, 0.99),
        maxMs: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
        deliveredShare: t.received / t.expected,
        serverCpuSec: cpu.serverCpuSec,
        loadCpuSec: t.loadCpuSec,
        otherCpuSec: otherCpu(cpu, t.loadCpuSec),
      };
    });
  } catch (err) {
    const nan = Number.NaN;
    return { ...base, error: errorText(err), seconds: nan, samples: 0, p50Ms: nan, p99Ms: nan, maxMs: nan, deliveredShare: nan, serverCpuSec: nan, loadCpuSec: [], otherCpuSec: nan };
  }
}
