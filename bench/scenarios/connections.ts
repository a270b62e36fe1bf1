/**
 * Idle connections: a fresh server, then `count` clients opened with bounded concurrency across the
 * load processes. Reports the connect rate and the server's RSS growth per connection (after a
 * settle time and forced GCs on both sides of the measurement).
 */
import type { ServerKind } from '../lib/messages.js';
import { errorText, type ConnectionsResult } from '../lib/results.js';
import { delay, split, withServer, type Ctx, type Server } from './harness.js';

export async function connections(ctx: Ctx, kind: ServerKind, launched: Promise<Server>): Promise<ConnectionsResult> {
  const p = ctx.params.connections;
  const base = { server: kind, count: p.count };
  try {
    return await withServer(ctx, launched, async (server) => {
      await delay(p.settleMs);
      const heapBefore = await server.gc();
      const rssBeforeBytes = server.rssBytes();
      const endpoint = { kind, port: server.port };
      const ready = await ctx.pool.setup(
        split(p.count, ctx.pool.size).map((count) => ({ kind: 'idle' as const, endpoint, count, concurrency: p.concurrency })),
        180_000,
      );
      const seconds = (Math.max(...ready.map((r) => r.readyAt)) - Math.min(...ready.map((r) => r.startedAt))) / 1000;
      ctx.log(`    ${p.count} connected in ${seconds.toFixed(2)} s; settling ${p.settleMs} ms`);
      await delay(p.settleMs);
      const open = await server.connections();
      if (open !== p.count) throw new Error(`the server counts ${open} connections, expected ${p.count}`);
      const heapAfter = await server.gc();
      const rssAfterBytes = server.rssBytes();
      return {
        ...base,
        seconds,
        connectsPerSec: p.count / seconds,
        rssBeforeBytes,
        rssAfterBytes,
        rssKBPerConnection: (rssAfterBytes - rssBeforeBytes) / 1024 / p.count,
        heapKBPerConnection: (heapAfter - heapBefore) / 1024 / p.count,
        loadCpuSec: ready.map((r) => (r.cpu ? (r.cpu.user + r.cpu.system) / 1e6 : Number.NaN)),
      };
    });
  } catch (err) {
    const nan = Number.NaN;
    return { ...base, error: errorText(err), seconds: nan, connectsPerSec: nan, rssBeforeBytes: nan, rssAfterBytes: nan, rssKBPerConnection: nan, heapKBPerConnection: nan, loadCpuSec: [] };
  }
}
