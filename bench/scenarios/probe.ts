/**
 * The orchestrator's side of the probe child (bench/load/probe.ts) and what the presence and
 * subscribe scenarios share: the channels file their hubs load, and p50/p99 of the probe's timings.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTs, type Child } from '../lib/children.js';
import { quantile } from '../lib/median.js';
import type { ProbeCommand, ProbeReport } from '../lib/messages.js';
import { ofType, type Ctx } from './harness.js';

/** Channels `pres:…` have presence (members may ask) and no join/leave frames; the others are plain. */
export const PRESENCE_NAMESPACE = 'pres';

let channelsFile: string | null = null;

/** Server arguments that load the bench's channels file (written once per run, removed on exit). */
export function channelsArgs(): string[] {
  if (channelsFile === null) {
    const dir = mkdtempSync(join(tmpdir(), 'walker-hub-bench-channels-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    channelsFile = join(dir, 'channels.json');
    writeFileSync(channelsFile, JSON.stringify({ namespaces: { [PRESENCE_NAMESPACE]: { presence: true, join_leave: false } } }));
  }
  return [`--channels=${channelsFile}`];
}

export type Probe = Child<ProbeCommand, ProbeReport>;
export type Timed = Extract<ProbeReport, { type: 'timed' }>;

/** Runs one probe job in a child of its own (on the load CPUs), stopped afterwards whatever happens. */
export async function probe(ctx: Ctx, command: ProbeCommand, timeoutMs: number): Promise<Timed> {
  const child = spawnTs<ProbeCommand, ProbeReport>('probe', 'bench/load/probe.ts', (m) => (m.type === 'error' ? m.message : null), [], ctx.params.pin?.load ?? null);
  try {
    await child.next(ofType<ProbeReport, 'hello'>('hello'), 60_000, 'hello');
    child.send(command);
    return await child.next(ofType<ProbeReport, 'timed'>('timed'), timeoutMs, 'timings');
  } finally {
    await child.stop();
  }
}

/** p50, p99 and max of the probe's samples, ms. */
export function timings(t: Timed): { samples: number; p50Ms: number; p99Ms: number; maxMs: number } {
  const sorted = Float64Array.from(t.latencies).sort();
  return { samples: sorted.length, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), maxMs: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN };
}

export const nanTimings = { samples: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN };
