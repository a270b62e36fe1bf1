/**
 * One room spread over the load pool, shared by the fanout and latency scenarios: subscribers
 * first (split evenly), then the publisher, connected last in worker 0; then phases of messages.
 */
import type { LoadReport, Pacing } from '../lib/messages.js';
import { ofType, split, type Ctx, type Server } from './harness.js';

export const ROOM = 'bench';
const SETUP_MS = 120_000;

export type PhaseDone = Extract<LoadReport, { type: 'phaseDone' }>;

/** Opens `subscribers` sockets in `room`, one of them the publisher. `samples` of them decode payloads. */
export async function openRoom(ctx: Ctx, server: Server, subscribers: number, samples: number, room = ROOM): Promise<void> {
  const { pool } = ctx;
  const shares = split(subscribers, pool.size);
  shares[0] = (shares[0] as number) - 1; // the publisher is one of the subscribers
  const sampleEvery = samples > 0 ? Math.max(1, Math.floor(subscribers / samples)) : 0;
  const endpoint = { kind: server.kind, port: server.port };
  await pool.setup(
    shares.map((n) => ({ kind: 'channel' as const, endpoint, room, subscribers: n, concurrency: ctx.params.fanout.concurrency, sampleEvery })),
    SETUP_MS,
  );
  const publisher = pool.worker(0);
  publisher.send({ type: 'publisher' });
  await publisher.next(ofType<LoadReport, 'ready'>('ready'), SETUP_MS, 'publisher ready');
}

/** Sends `msgs` messages and waits for every worker's report (complete, or at its timeout). */
export async function runPhase(ctx: Ctx, msgs: number, pacing: Pacing, timeoutMs: number, skipSeqBelow = 0): Promise<PhaseDone[]> {
  const { pool } = ctx;
  // Receivers hear of the phase before the publisher starts it.
  for (let i = pool.size - 1; i >= 0; i--) pool.worker(i).send({ type: 'phase', msgs, pacing, timeoutMs, skipSeqBelow });
  return Promise.all(
    Array.from({ length: pool.size }, (_, i) => pool.worker(i).next(ofType<LoadReport, 'phaseDone'>('phaseDone'), timeoutMs + 10_000, 'phase report')),
  );
}

export function totals(reports: readonly PhaseDone[]) {
  const received = reports.reduce((a, r) => a + r.received, 0);
  const expected = reports.reduce((a, r) => a + r.expected, 0);
  const firstSendAt = reports[0]?.firstSendAt ?? Number.NaN;
  const lastFrameAt = Math.max(...reports.map((r) => r.lastFrameAt));
  return {
    received,
    expected,
    incompleteSockets: reports.reduce((a, r) => a + r.incompleteSockets, 0),
    seconds: (lastFrameAt - firstSendAt) / 1000,
    loadCpuSec: reports.map((r) => (r.cpu.user + r.cpu.system) / 1e6),
  };
}

type Totals = ReturnType<typeof totals>;

/** Two phases' totals as one (their seconds added, so gaps between phases are not counted). */
function addTotals(a: Totals, b: Totals): Totals {
  return {
    received: a.received + b.received,
    expected: a.expected + b.expected,
    incompleteSockets: a.incompleteSockets + b.incompleteSockets,
    seconds: a.seconds + b.seconds,
    loadCpuSec: b.loadCpuSec.map((c, i) => c + (a.loadCpuSec[i] ?? 0)),
  };
}

/** Measured phases at most per run (the first and its top-ups). */
const MAX_PHASES = 4;

/** How a measured run is sized: deliveries within [min, max], messages to `subscribers` sockets. */
export interface Sizing {
  readonly subscribers: number;
  readonly minDeliveries: number;
  readonly maxDeliveries: number;
}

/** Messages for about `sec` seconds at `deliveriesPerSec` (at least 20). */
export function messagesFor(s: Sizing, deliveriesPerSec: number, sec: number): number {
  return Math.max(20, Math.ceil(Math.min(s.maxDeliveries, Math.max(s.minDeliveries, deliveriesPerSec * sec)) / s.subscribers));
}

/**
 * A measured run of at least `targetSec`: a first phase of `msgs` messages (sized from the
 * warm-up's rate), then, while the measured time falls short (a server that ran warm after the
 * warm-up finishes early), up to MAX_PHASES - 1 more phases sized from the rate measured so far.
 * The totals add the phases' own times, so the few milliseconds between phases are not counted.
 */
export async function measuredPhases(ctx: Ctx, sizing: Sizing, msgs: number, targetSec: number, pacing: Pacing, timeoutMs: number): Promise<{ msgs: number; t: Totals }> {
  let t = totals(await runPhase(ctx, msgs, pacing, timeoutMs));
  let sent = msgs;
  for (let phase = 1; t.seconds < targetSec && t.received > 0 && phase < MAX_PHASES; phase++) {
    // A tenth of targetSec beyond it, so one more phase is usually enough.
    const more = messagesFor(sizing, t.received / t.seconds, 1.1 * targetSec - t.seconds);
    ctx.log(`    measured ${(t.seconds).toFixed(2)} s; ${more} more messages`);
    t = addTotals(t, totals(await runPhase(ctx, more, pacing, timeoutMs)));
    sent += more;
  }
  return { msgs: sent, t };
}

/** The delivery figures every fanout-shaped result reports (fanout, cluster, scale), from one phase's totals. */
export function deliveryFigures(msgs: number, subscribers: number, t: { readonly received: number; readonly seconds: number }) {
  const expected = msgs * subscribers;
  return { msgs, expected, received: t.received, deliveredShare: t.received / expected, seconds: t.seconds, deliveriesPerSec: t.received / t.seconds };
}
