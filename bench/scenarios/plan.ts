/**
 * The order of a benchmark run. Each scenario starts all the servers it needs together (before
 * anything is measured, so start-up CPU never lands in a measurement), then measures them one at
 * a time, each run on its own fresh server. Raw uWS goes first: latency needs its peak rate.
 */
import { pickMedian, spreadOf } from '../lib/median.js';
import { serverLabels, type ServerKind } from '../lib/messages.js';
import type { FanoutResult, LatencyResult, RestResult, Results, WalkerResult, WireProfileName } from '../lib/results.js';
import type { WalkerVariant } from '../lib/messages.js';
import { fixed, int, percent } from '../lib/table.js';
import { chat } from './chat.js';
import { clusterSection } from './cluster.js';
import { connections } from './connections.js';
import { fanout } from './fanout.js';
import { launch, type Ctx } from './harness.js';
import { failed, launchAll, measure } from './measure.js';
import { latency } from './latency.js';
import { presenceFanoutSection, presenceSection } from './presence.js';
import { subscribeSection } from './subscribe.js';
import { measureCollections } from './collections.js';
import { rest, restPaths } from './rest.js';
import { profileArgs, startWalkerLoad, walkerCalls } from './walker.js';

/** Servers measured `fanout.repeats` times at the largest N: the ones the targets compare. */
const REPEATED: ReadonlySet<ServerKind> = new Set(['uws', 'hub', 'socketio']);

/**
 * Fanout at every N. At the largest N, the servers the targets compare are measured
 * `fanout.repeats` times, interleaved (uWS, hub, …, uWS, hub, …) so drifting background load hits
 * them alike (each measured over at least 3 s); the row is the median run by deliveries/s, with the
 * spread, and every run's figures stay in the JSON under `runs`.
 */
async function fanoutSection(ctx: Ctx, results: Results, sizes: readonly number[]): Promise<void> {
  const { params, log } = ctx;
  const top = Math.max(...sizes);
  const plan = sizes.flatMap((n) =>
    Array.from({ length: n === top ? params.fanout.repeats : 1 }, (_, rep) =>
      params.servers.filter((kind) => rep === 0 || REPEATED.has(kind)).map((kind) => ({ kind, n })),
    ).flat(),
  );
  log('fanout');
  const done = new Map<string, FanoutResult[]>();
  for (const { kind, n, server } of await launchAll(ctx, plan)) {
    log(`fanout  N=${int(n)}  ${serverLabels[kind]}`);
    const r = await measure(ctx, kind, server, (s) => fanout(ctx, kind, s, n));
    log(`  ${int(r.deliveriesPerSec)} deliveries/s, ${fixed(r.serverCpuUsPerDelivery, 3)} µs server CPU/delivery, ${percent(r.deliveredShare, 2)} delivered${failed(r)}`);
    const key = `${n}/${kind}`;
    done.set(key, [...(done.get(key) ?? []), r]);
  }
  for (const n of sizes) {
    for (const kind of params.servers) {
      const runs = done.get(`${n}/${kind}`) ?? [];
      const mid = pickMedian(runs, (r) => r.deliveriesPerSec);
      if (!mid) continue;
      const summary = runs.map((r) => ({ deliveriesPerSec: r.deliveriesPerSec, serverCpuUsPerDelivery: r.serverCpuUsPerDelivery, otherCpuSec: r.otherCpuSec }));
      const spread = { deliveriesPerSec: spreadOf(runs, (r) => r.deliveriesPerSec), serverCpuUsPerDelivery: spreadOf(runs, (r) => r.serverCpuUsPerDelivery) };
      results.fanout.push(runs.length > 1 ? { ...mid, runs: summary, spread } : mid);
    }
  }
}

/**
 * Latency at N = latency.subscribers, each server at half its own fanout peak, and the hub again at
 * raw uWS's rate (the target compares that pair). The pair is measured `latency.repeats` times,
 * interleaved; the row is the median run by p99 (with the spread), and every run's figures stay in the JSON.
 */
async function latencySection(ctx: Ctx, results: Results): Promise<void> {
  const { params, log } = ctx;
  const n = params.latency.subscribers;
  const offered = (kind: ServerKind) =>
    (results.fanout.find((r) => r.server === kind && r.subscribers === n)?.msgsPerSec ?? Number.NaN) * params.latency.rateShare;
  const pair = params.servers.includes('uws') && params.servers.includes('hub');
  const plan = Array.from({ length: pair ? params.latency.repeats : 1 }, (_, rep) =>
    params.servers.flatMap((kind) => [
      ...(rep === 0 || (pair && kind === 'uws') ? [{ kind, label: 'own' as const, rate: offered(kind) }] : []),
      ...(pair && kind === 'hub' ? [{ kind, label: 'uws-rate' as const, rate: offered('uws') }] : []),
    ]),
  ).flat();
  log('latency');
  const done = new Map<string, LatencyResult[]>();
  for (const { kind, label, rate, server } of await launchAll(ctx, plan)) {
    log(`latency N=${int(n)}  ${serverLabels[kind]}${label === 'uws-rate' ? ' at raw uWS rate' : ''}  ${int(rate)} msg/s`);
    const r = await measure(ctx, kind, server, (s) => latency(ctx, kind, s, rate, label));
    log(`  p50 ${fixed(r.p50Ms, 2)} ms, p99 ${fixed(r.p99Ms, 2)} ms, max ${fixed(r.maxMs, 2)} ms over ${int(r.samples)} samples${failed(r)}`);
    done.set(`${kind}/${label}`, [...(done.get(`${kind}/${label}`) ?? []), r]);
  }
  for (const runs of done.values()) {
    const mid = pickMedian(runs, (r) => r.p99Ms);
    if (!mid) continue;
    const summary = runs.map((r) => ({ p50Ms: r.p50Ms, p99Ms: r.p99Ms, maxMs: r.maxMs, otherCpuSec: r.otherCpuSec }));
    results.latency.push(runs.length > 1 ? { ...mid, runs: summary, spread: { p99Ms: spreadOf(runs, (r) => r.p99Ms) } } : mid);
  }
}

/** The hub in both wire profiles, raw uWS and Socket.IO: each a row of the walker-call table. */
interface WalkerTarget {
  readonly kind: ServerKind;
  readonly profile: WireProfileName | null;
}

/**
 * Walker calls, both variants. Raw uWS and the hub in both profiles run `walker.repeats` times,
 * interleaved (uWS, hub, hub jac-cloud, …, again); Socket.IO once. Each row is the median run by
 * calls/s, with the spread over all runs.
 */
async function walkerSection(ctx: Ctx, results: Results): Promise<void> {
  const { params, log } = ctx;
  const targets: WalkerTarget[] = params.servers.flatMap((kind): WalkerTarget[] =>
    kind === 'hub' ? [{ kind, profile: 'native' }, { kind, profile: 'jac-cloud' }] : kind === 'uws' || kind === 'socketio' ? [{ kind, profile: null }] : [],
  );
  const variants: WalkerVariant[] = ['uid', 'ordered'];
  const plan = Array.from({ length: params.walker.repeats }, (_, rep) =>
    variants.flatMap((variant) => targets.filter((t) => rep === 0 || t.kind !== 'socketio').map((t) => ({ ...t, variant }))),
  ).flat();
  log('walker calls');
  ctx.log(`  starting ${plan.length} server processes`);
  const launched = plan.map((run) => ({ ...run, server: launch(ctx, run.kind, profileArgs(run.profile)) }));
  await Promise.allSettled(launched.map((l) => l.server));
  const done = new Map<string, WalkerResult[]>();
  const label = (t: WalkerTarget) => `${serverLabels[t.kind]}${t.profile === 'jac-cloud' ? ' (jac-cloud)' : ''}`;
  const load = await startWalkerLoad(ctx);
  try {
    for (const run of launched) {
      log(`walker  ${params.walker.connections} conns × ${params.walker.window} in flight  ${run.variant}  ${label(run)}`);
      const r = await measure(ctx, run.kind, run.server, (s) => walkerCalls(ctx, load, run.kind, run.profile, run.variant, s), profileArgs(run.profile));
      log(`  ${int(r.callsPerSec)} calls/s, ${fixed(r.serverCpuUsPerCall, 2)} µs server CPU/call${failed(r)}`);
      const key = `${run.variant}/${run.kind}/${run.profile ?? ''}`;
      done.set(key, [...(done.get(key) ?? []), r]);
    }
  } finally {
    await Promise.all(load.map((c) => c.stop()));
  }
  for (const runs of done.values()) {
    const mid = pickMedian(runs, (r) => r.callsPerSec);
    if (!mid) continue;
    const summary = runs.map((r) => ({ callsPerSec: r.callsPerSec, serverCpuUsPerCall: r.serverCpuUsPerCall, otherCpuSec: r.otherCpuSec }));
    results.walker.push(runs.length > 1 ? { ...mid, runs: summary, spread: spreadOf(runs, (r) => r.callsPerSec) } : mid);
  }
}

/**
 * REST, every server with a REST route (raw uWS and the hub) `rest.repeats` times, interleaved
 * (uWS, hub, uWS, hub, …); each row is the median run by requests/s, with the spread over all runs.
 */
async function restSection(ctx: Ctx, results: Results): Promise<void> {
  const { params, log } = ctx;
  const kinds = params.servers.filter((k) => restPaths[k] !== undefined);
  const plan = Array.from({ length: params.rest.repeats }, () => kinds.map((kind) => ({ kind }))).flat();
  log('rest');
  const done = new Map<ServerKind, RestResult[]>();
  for (const { kind, server } of await launchAll(ctx, plan)) {
    log(`rest    ${serverLabels[kind]} POST ${restPaths[kind] ?? ''}`);
    const r = await measure(ctx, kind, server, (s) => rest(ctx, kind, s));
    log(`  ${int(r.requestsPerSec)} requests/s, p99 ${fixed(r.p99Ms, 0)} ms${failed(r)}`);
    done.set(kind, [...(done.get(kind) ?? []), r]);
  }
  for (const runs of done.values()) {
    const mid = pickMedian(runs, (r) => r.requestsPerSec);
    if (!mid) continue;
    const summary = runs.map((r) => ({ requestsPerSec: r.requestsPerSec, p99Ms: r.p99Ms, serverCpuUsPerRequest: r.serverCpuUsPerRequest, otherCpuSec: r.otherCpuSec }));
    results.rest.push(runs.length > 1 ? { ...mid, runs: summary, spread: spreadOf(runs, (r) => r.requestsPerSec) } : mid);
  }
}

export async function runAll(ctx: Ctx, results: Results): Promise<void> {
  const { params, log } = ctx;
  const { servers, scenarios } = params;
  // Latency needs each server's peak at its N: measure that even when fanout itself was not asked for.
  const sizes = scenarios.includes('fanout') ? params.fanout.sizes : scenarios.includes('latency') ? [params.latency.subscribers] : [];

  if (sizes.length > 0) await fanoutSection(ctx, results, sizes);

  if (scenarios.includes('latency')) await latencySection(ctx, results);

  if (scenarios.includes('chat')) {
    log('chat');
    for (const { kind, server } of await launchAll(ctx, servers.map((kind) => ({ kind })))) {
      log(`chat    ${int(params.chat.rooms)} rooms × ${params.chat.members}  ${serverLabels[kind]}`);
      const r = await measure(ctx, kind, server, (s) => chat(ctx, kind, s));
      results.chat.push(r);
      log(`  ${int(r.deliveriesPerSec)} deliveries/s, ${fixed(r.serverCpuUsPerDelivery, 3)} µs server CPU/delivery${failed(r)}`);
    }
  }

  if (scenarios.includes('connections')) {
    log('connections');
    for (const { kind, server } of await launchAll(ctx, servers.map((kind) => ({ kind })))) {
      log(`connections ${int(params.connections.count)} idle  ${serverLabels[kind]}`);
      const r = await connections(ctx, kind, server);
      results.connections.push(r);
      log(`  ${int(r.connectsPerSec)} connects/s, ${fixed(r.rssKBPerConnection, 2)} KB RSS per connection${failed(r)}`);
    }
  }

  if (scenarios.includes('walker')) await walkerSection(ctx, results);

  if (scenarios.includes('rest')) await restSection(ctx, results);

  // Walker Hub only (single node vs. nodes on Redis), whatever --servers says.
  if (scenarios.includes('cluster')) {
    log('cluster');
    results.cluster.push(...(await clusterSection(ctx)));
  }

  // Walker Hub only, whatever --servers says: subscribe latency and presence (one node, and nodes on Redis).
  if (scenarios.includes('subscribe')) {
    log('subscribe latency');
    results.subscribe.push(...(await subscribeSection(ctx)));
  }

  if (scenarios.includes('presence-fanout')) results.presenceFanout.push(...(await presenceFanoutSection(ctx)));

  if (scenarios.includes('presence')) {
    log('presence');
    results.presence.push(...(await presenceSection(ctx)));
  }

  // Walker Hub only, whatever --servers says: live data subscriptions against a plain channel.
  if (scenarios.includes('collections')) {
    const c = params.collections;
    log(`collections  ${int(c.subscribers)} subscribers, ${int(c.writes)} creates`);
    try {
      for (const r of await measureCollections(c)) {
        results.collections.push(r);
        log(`  ${r.fanout}: ${int(r.eventsPerSec)} events/s, ${fixed(r.serverCpuUsPerDelivery, 2)} µs server CPU/delivery${r.writeP99Ms === null ? '' : `, write p99 ${fixed(r.writeP99Ms, 0)} ms`}`);
      }
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      log(`  failed: ${error}`);
      results.collections.push({ server: 'hub', fanout: 'checked', subscribers: c.subscribers, writes: c.writes, eventsPerSec: NaN, serverCpuUsPerDelivery: NaN, writeP50Ms: null, writeP99Ms: null, error });
    }
  }
}
