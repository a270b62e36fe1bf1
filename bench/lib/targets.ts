/**
 * The hub's targets, as ratios against the other servers measured in the same run. They are
 * printed pass/miss next to the figures; they are not tests and never fail the run.
 */
import type { Params } from './params.js';
import type { Results } from './results.js';

export interface TargetCheck {
  readonly target: string;
  /** The figure compared to the limit: a ratio, or an absolute value for memory. */
  readonly value: number;
  readonly limit: string;
  /** null when a figure it needs is missing (server not run or run failed). */
  readonly pass: boolean | null;
  readonly detail: string;
}

function check(target: string, value: number, op: '<=' | '>=', limit: number, detail: string): TargetCheck {
  const pass = Number.isFinite(value) ? (op === '<=' ? value <= limit : value >= limit) : null;
  return { target, value, limit: `${op === '<=' ? '≤' : '≥'} ${limit}`, pass, detail };
}

const f = (n: number | undefined, d = 3) => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(d));

export function evaluateTargets(results: Results, params: Params): TargetCheck[] {
  const n = Math.max(...params.fanout.sizes);
  const fan = (server: string) => results.fanout.find((r) => r.server === server && r.subscribers === n && !r.error);
  const hub = fan('hub');
  const uws = fan('uws');
  const sio = fan('socketio');
  const nan = Number.NaN;
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? nan : a / b);

  const latUws = results.latency.find((r) => r.server === 'uws' && r.label === 'own' && !r.error);
  const latHub = results.latency.find((r) => r.server === 'hub' && r.label === 'uws-rate' && !r.error);
  const memHub = results.connections.find((r) => r.server === 'hub' && !r.error);
  const restHub = results.rest.find((r) => r.server === 'hub' && !r.error);
  const restUws = results.rest.find((r) => r.server === 'uws' && !r.error);
  const N = n.toLocaleString('en-US');
  const single = results.cluster.find((r) => r.layout === 'single' && !r.error);
  const spread = results.cluster.find((r) => r.layout === 'cluster' && !r.error);
  const walker = (variant: string, server: string, profile: string | null) =>
    results.walker.find((r) => r.variant === variant && r.server === server && r.profile === profile && !r.error);
  const walkerTargets = (['uid', 'ordered'] as const).flatMap((variant) =>
    (['native', 'jac-cloud'] as const).map((profile) => {
      const hubW = walker(variant, 'hub', profile);
      const uwsW = walker(variant, 'uws', null);
      return check(`walker calls (${variant === 'uid' ? 'with uid' : 'ordered'}, ${profile}): hub calls/s ≥ 0.85× raw uWS`, ratio(hubW?.callsPerSec, uwsW?.callsPerSec), '>=', 0.85,
        `${f(hubW?.callsPerSec, 0)} vs ${f(uwsW?.callsPerSec, 0)} calls/s (medians)`);
    }),
  );

  const presenceOn = results.presenceFanout.find((r) => r.presence && !r.error);
  const presenceOff = results.presenceFanout.find((r) => !r.presence && !r.error);
  const presenceTargets = results.presence.map((r) =>
    check(`presence on ${r.members.toLocaleString('en-US')} members, ${r.layout === 'single' ? 'single node' : `${r.nodes} nodes + Redis`}: p99 ≤ 50 ms (ms, not a ratio)`, r.error ? nan : r.p99Ms, '<=', 50,
      `p50 ${f(r.p50Ms, 2)} ms over ${r.samples} requests, ${f(r.replyBytes / 1024, 0)} KiB per reply`),
  );

  return [
    check(`fanout N=${N}: hub CPU/delivery ≤ 1.2× raw uWS`, ratio(hub?.serverCpuUsPerDelivery, uws?.serverCpuUsPerDelivery), '<=', 1.2,
      `${f(hub?.serverCpuUsPerDelivery)} vs ${f(uws?.serverCpuUsPerDelivery)} µs`),
    check(`fanout N=${N}: hub deliveries/s ≥ 0.85× raw uWS`, ratio(hub?.deliveriesPerSec, uws?.deliveriesPerSec), '>=', 0.85,
      `${f(hub?.deliveriesPerSec, 0)} vs ${f(uws?.deliveriesPerSec, 0)} /s`),
    check(`fanout N=${N}: hub deliveries/s ≥ 5× Socket.IO`, ratio(hub?.deliveriesPerSec, sio?.deliveriesPerSec), '>=', 5,
      `${f(hub?.deliveriesPerSec, 0)} vs ${f(sio?.deliveriesPerSec, 0)} /s`),
    check(`fanout N=${N}: hub CPU/delivery ≤ 1/5 of Socket.IO (ratio SIO/hub)`, ratio(sio?.serverCpuUsPerDelivery, hub?.serverCpuUsPerDelivery), '>=', 5,
      `${f(sio?.serverCpuUsPerDelivery)} vs ${f(hub?.serverCpuUsPerDelivery)} µs`),
    check('latency p99 ≤ 2× raw uWS at the same offered rate', ratio(latHub?.p99Ms, latUws?.p99Ms), '<=', 2,
      `${f(latHub?.p99Ms)} vs ${f(latUws?.p99Ms)} ms at ${f(latUws?.offeredMsgsPerSec, 0)} msg/s`),
    check('hub idle memory ≤ 8 KB per connection (KB, not a ratio)', memHub?.rssKBPerConnection ?? nan, '<=', 8,
      `RSS delta over ${memHub?.count ?? '—'} connections`),
    check('REST walker ≥ 0.9× raw uWS requests/s', ratio(restHub?.requestsPerSec, restUws?.requestsPerSec), '>=', 0.9,
      `${f(restHub?.requestsPerSec, 0)} vs ${f(restUws?.requestsPerSec, 0)} req/s (medians)`),
    check('REST walker server CPU/request ≤ 1.2× raw uWS', ratio(restHub?.serverCpuUsPerRequest, restUws?.serverCpuUsPerRequest), '<=', 1.2,
      `${f(restHub?.serverCpuUsPerRequest)} vs ${f(restUws?.serverCpuUsPerRequest)} µs (medians)`),
    check(`cluster N=${params.cluster.subscribers.toLocaleString('en-US')}: ${params.cluster.nodes} nodes + Redis CPU/delivery ≤ 1.3× single node`,
      ratio(spread?.serverCpuUsPerDelivery, single?.serverCpuUsPerDelivery), '<=', 1.3,
      `${f(spread?.serverCpuUsPerDelivery)} vs ${f(single?.serverCpuUsPerDelivery)} µs (${spread?.spread && single?.spread ? 'medians' : 'one run each'})`),
    ...walkerTargets,
    check(`fanout N=${params.presenceFanout.subscribers.toLocaleString('en-US')}, presence on vs plain channel: CPU/delivery ≤ 1.1×`,
      ratio(presenceOn?.serverCpuUsPerDelivery, presenceOff?.serverCpuUsPerDelivery), '<=', 1.1,
      `${f(presenceOn?.serverCpuUsPerDelivery)} vs ${f(presenceOff?.serverCpuUsPerDelivery)} µs (${presenceOn?.spread ? 'medians' : 'one run each'})`),
    ...presenceTargets,
  ];
}
