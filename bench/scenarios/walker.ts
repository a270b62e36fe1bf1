/**
 * Walker calls over WebSocket, the hub's main request path: C connections (spread over the load
 * processes), each keeping W calls in flight, with `uid` or without (replies in request order).
 * Against raw uWS doing the same JSON validation and reply, and Socket.IO answering through acks.
 * Server CPU is read over the measured window only (after connecting and a warm-up).
 */
import { spawnTs, type Child } from '../lib/children.js';
import type { ServerKind, WalkerCallCommand, WalkerCallReport, WalkerVariant } from '../lib/messages.js';
import { errorText, type WalkerResult, type WireProfileName } from '../lib/results.js';
import { delay, ofType, openCpuWindow, otherCpu, split, withServer, type Ctx, type Server } from './harness.js';

/** Server arguments per profile (only the hub has profiles). */
export const profileArgs = (profile: WireProfileName | null): string[] => (profile === 'jac-cloud' ? ['--protocol=jac-cloud'] : []);

export type WalkerLoad = Child<WalkerCallCommand, WalkerCallReport>;

/** The load children of the section, started once and reused by every run (each run replaces the job). */
export async function startWalkerLoad(ctx: Ctx): Promise<WalkerLoad[]> {
  const count = Math.min(ctx.params.loadProcs, ctx.params.walker.connections);
  const children = Array.from({ length: count }, (_, i) => spawnLoad(ctx, i));
  await Promise.all(children.map((c) => c.next(ofType<WalkerCallReport, 'hello'>('hello'), 30_000, 'hello')));
  return children;
}

export async function walkerCalls(ctx: Ctx, children: readonly WalkerLoad[], kind: ServerKind, profile: WireProfileName | null, variant: WalkerVariant, launched: Promise<Server>): Promise<WalkerResult> {
  const p = ctx.params.walker;
  const base = { server: kind, profile, variant, connections: p.connections, window: p.window };
  try {
    return await withServer(ctx, launched, async (server) => {
      for (const c of children) c.reset();
      const shares = split(p.connections, children.length);
      children.forEach((c, i) => c.send({ type: 'job', job: { endpoint: { kind, port: server.port }, variant, connections: shares[i] as number, window: p.window, body: p.body } }));
      const ready = await Promise.all(children.map((c) => c.next(ofType<WalkerCallReport, 'ready'>('ready'), 30_000, 'ready report')));
      await delay(p.warmSec * 1000);
      const stop = await openCpuWindow(ctx, server, `walker-${kind}${profile ? `-${profile}` : ''}-${variant}`);
      for (const c of children) c.send({ type: 'measure', durationMs: p.durationSec * 1000 });
      const measured = await Promise.all(children.map((c) => c.next(ofType<WalkerCallReport, 'measured'>('measured'), (p.durationSec + 30) * 1000, 'measured report')));
      const cpu = await stop();
      const replies = measured.reduce((a, m) => a + m.replies, 0);
      const seconds = Math.max(...measured.map((m) => m.seconds));
      const loadCpuSec = measured.map((m) => (m.cpu.user + m.cpu.system) / 1e6);
      return {
        ...base,
        seconds,
        replies,
        callsPerSec: replies / seconds,
        serverCpuSec: cpu.serverCpuSec,
        serverCpuUsPerCall: (cpu.serverCpuSec * 1e6) / replies,
        loadCpuSec,
        otherCpuSec: otherCpu(cpu, loadCpuSec),
        sampleReply: ready[0]?.sample ?? '',
      };
    });
  } catch (err) {
    const nan = Number.NaN;
    return { ...base, error: errorText(err), seconds: nan, replies: nan, callsPerSec: nan, serverCpuSec: nan, serverCpuUsPerCall: nan, loadCpuSec: [], otherCpuSec: nan, sampleReply: '' };
  }
}

function spawnLoad(ctx: Ctx, i: number) {
  const failure = (m: WalkerCallReport) => (m.type === 'error' ? m.message : null);
  return spawnTs<WalkerCallCommand, WalkerCallReport>(`walker-load#${i}`, 'bench/load/walker-calls.ts', failure, [], ctx.params.pin?.load ?? null);
}
