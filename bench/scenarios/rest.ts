/**
 * REST: autocannon, in its own child process, against the hub's POST /walker/bench_echo and raw
 * uWS's POST /echo with the same JSON body. Server CPU is read around the measured run only.
 */
import { spawnTs } from '../lib/children.js';
import type { RestJob, RestReport, ServerKind } from '../lib/messages.js';
import { errorText, type RestResult } from '../lib/results.js';
import { ofType, openCpuWindow, otherCpu, withServer, type Ctx, type Server } from './harness.js';

export const restPaths: Partial<Record<ServerKind, string>> = { hub: '/walker/bench_echo', uws: '/echo' };

export async function rest(ctx: Ctx, kind: ServerKind, launched: Promise<Server>): Promise<RestResult> {
  const p = ctx.params.rest;
  const path = restPaths[kind] ?? '';
  const base = { server: kind, path, connections: p.connections };
  try {
    return await withServer(ctx, launched, async (server) => {
      const failure = (m: RestReport) => (m.type === 'error' ? m.message : null);
      const cannon = spawnTs<RestJob, RestReport>(`autocannon:${kind}`, 'bench/load/rest.ts', failure, [], ctx.params.pin?.load ?? null);
      try {
        await cannon.next(ofType<RestReport, 'hello'>('hello'), 30_000, 'hello');
        cannon.send({ url: `http://127.0.0.1:${server.port}${path}`, body: p.body, connections: p.connections, durationSec: p.durationSec, warmupSec: p.warmupSec });
        await cannon.next(ofType<RestReport, 'measuring'>('measuring'), (p.warmupSec + 30) * 1000, 'start of the measured run');
        const stop = await openCpuWindow(ctx, server, `rest-${kind}`);
        const r = await cannon.next(ofType<RestReport, 'result'>('result'), (p.durationSec + 30) * 1000, 'autocannon result');
        const cpu = await stop();
        const loadCpuSec = (r.cpu.user + r.cpu.system) / 1e6;
        return {
          ...base,
          seconds: r.durationSec,
          requestsPerSec: r.requestsPerSec,
          total: r.total,
          p50Ms: r.latencyP50Ms,
          p99Ms: r.latencyP99Ms,
          non2xx: r.non2xx,
          errors: r.errors,
          serverCpuSec: cpu.serverCpuSec,
          serverCpuUsPerRequest: (cpu.serverCpuSec * 1e6) / r.total,
          loadCpuSec,
          otherCpuSec: otherCpu(cpu, [loadCpuSec]),
          sampleResponse: r.sample,
        };
      } finally {
        await cannon.stop();
      }
    });
  } catch (err) {
    const nan = Number.NaN;
    return { ...base, error: errorText(err), seconds: nan, requestsPerSec: nan, total: nan, p50Ms: nan, p99Ms: nan, non2xx: nan, errors: nan, serverCpuSec: nan, serverCpuUsPerRequest: nan, loadCpuSec: nan, otherCpuSec: nan, sampleResponse: '' };
  }
}
