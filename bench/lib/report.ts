/** The printed report: one table per scenario, then the targets, then any failed runs. */
import { serverLabels } from './messages.js';
import type { Params } from './params.js';
import type { Results } from './results.js';
import { cpuList, fixed, int, mb, percent, table } from './table.js';
import type { TargetCheck } from './targets.js';

/** "min–max" of a spread. */
function range(s: { min: number; max: number } | undefined, digits: number): string {
  return s === undefined ? '—' : `${fixed(s.min, digits)}–${fixed(s.max, digits)}`;
}

const spreadLines = (lines: string[]): string[] => (lines.length === 0 ? [] : ['', 'Spread over the repeats (min–max):', ...lines.map((l) => `- ${l}`)]);

export function renderReport(results: Results, params: Params, targets: readonly TargetCheck[]): string {
  const out: string[] = [];
  const procs = `${params.loadProcs} load processes`;

  if (results.fanout.length > 0) {
    const top = Math.max(...params.fanout.sizes).toLocaleString('en-US');
    out.push(`### Channel fanout (1 publisher among N subscribers, ~104 B JSON payload, window ${params.fanout.window}, ${procs})`, '');
    out.push(
      table(
        ['N', 'server', 'messages', 'deliveries/s', 'server µs/delivery', 'server CPU', 'delivered', 'load CPU s', 'other CPU'],
        results.fanout.map((r) => [
          int(r.subscribers),
          serverLabels[r.server],
          int(r.msgs),
          int(r.deliveriesPerSec),
          fixed(r.serverCpuUsPerDelivery, 3),
          percent(r.serverCpuSec / r.seconds, 0),
          percent(r.deliveredShare, 2),
          cpuList(r.loadCpuSec),
          percent(r.otherCpuSec / r.seconds, 0),
        ]),
      ),
      '',
      `At N=${top}, raw uWS, Walker Hub and Socket.IO ran ${params.fanout.repeats}× (interleaved); the row is the median run by deliveries/s.`,
      ...spreadLines(results.fanout.filter((r) => r.spread).map((r) => `${serverLabels[r.server]} N=${int(r.subscribers)}: deliveries/s ${range(r.spread?.deliveriesPerSec, 0)}, µs/delivery ${range(r.spread?.serverCpuUsPerDelivery, 3)}`)),
      '',
    );
  }

  if (results.latency.length > 0) {
    const p = params.latency;
    out.push(`### Latency (N=${int(p.subscribers)}, offered rate = ${p.rateShare * 100}% of the server's peak at that N; ~${p.samples} sampled subscribers)`, '');
    out.push(
      table(
        ['server', 'offered msg/s', 'samples', 'p50 ms', 'p99 ms', 'max ms', 'delivered', 'load CPU s', 'other CPU'],
        results.latency.map((r) => [
          r.label === 'own' ? serverLabels[r.server] : `${serverLabels[r.server]} @ raw uWS rate`,
          int(r.offeredMsgsPerSec),
          int(r.samples),
          fixed(r.p50Ms, 2),
          fixed(r.p99Ms, 2),
          fixed(r.maxMs, 2),
          percent(r.deliveredShare, 2),
          cpuList(r.loadCpuSec),
          percent(r.otherCpuSec / r.seconds, 0),
        ]),
      ),
      '',
      `Raw uWS and Walker Hub @ raw uWS rate ran ${p.repeats}× (interleaved); each row is the median run by p99.`,
      ...spreadLines(results.latency.filter((r) => r.spread).map((r) => `${serverLabels[r.server]}${r.label === 'uws-rate' ? ' @ raw uWS rate' : ''}: p99 ms ${range(r.spread?.p99Ms, 2)}`)),
      '',
    );
  }

  if (results.chat.length > 0) {
    const c = params.chat;
    out.push(`### Chat (${int(c.rooms)} rooms × ${c.members} members, every member sending, ${c.durationSec} s)`, '');
    out.push(
      table(
        ['server', 'messages/s', 'deliveries/s', 'server µs/delivery', 'server CPU', 'load CPU s', 'other CPU'],
        results.chat.map((r) => [
          serverLabels[r.server],
          int(r.msgsSent / r.seconds),
          int(r.deliveriesPerSec),
          fixed(r.serverCpuUsPerDelivery, 3),
          percent(r.serverCpuSec / r.seconds, 0),
          cpuList(r.loadCpuSec),
          percent(r.otherCpuSec / r.seconds, 0),
        ]),
      ),
      '',
    );
  }

  if (results.connections.length > 0) {
    out.push(`### Idle connections (${int(params.connections.count)} clients, ${params.connections.concurrency} concurrent upgrades per load process)`, '');
    out.push(
      table(
        ['server', 'connects/s', 'RSS before MB', 'RSS after MB', 'RSS KB/conn', 'JS heap KB/conn', 'load CPU s'],
        results.connections.map((r) => [
          serverLabels[r.server],
          int(r.connectsPerSec),
          mb(r.rssBeforeBytes),
          mb(r.rssAfterBytes),
          fixed(r.rssKBPerConnection, 2),
          fixed(r.heapKBPerConnection, 2),
          cpuList(r.loadCpuSec),
        ]),
      ),
      '',
    );
  }

  if (results.rest.length > 0) {
    const r0 = params.rest;
    out.push(`### REST (autocannon, ${r0.connections} connections, ${r0.durationSec} s, same JSON body)`, '');
    out.push(
      table(
        ['server', 'route', 'requests/s', 'spread (min–max)', 'runs', 'p50 ms', 'p99 ms', 'non-2xx', 'server µs/request', 'server CPU', 'autocannon CPU s', 'other CPU'],
        results.rest.map((r) => [
          serverLabels[r.server],
          `POST ${r.path}`,
          int(r.requestsPerSec),
          r.spread ? `${int(r.spread.min)}–${int(r.spread.max)}` : '—',
          String(r.spread?.runs ?? 1),
          fixed(r.p50Ms, 1),
          fixed(r.p99Ms, 1),
          int(r.non2xx + r.errors),
          fixed(r.serverCpuUsPerRequest, 2),
          percent(r.serverCpuSec / r.seconds, 0),
          fixed(r.loadCpuSec, 2),
          percent(r.otherCpuSec / r.seconds, 0),
        ]),
      ),
      '',
      `Raw uWS and Walker Hub ran ${r0.repeats}× (interleaved); each row is the median run by requests/s.`,
      '',
    );
  }

  if (results.walker.length > 0) {
    const w = params.walker;
    out.push(`### Walker calls over WebSocket (${w.connections} connections × ${w.window} calls in flight, bench_echo, ${w.durationSec} s per run)`, '');
    out.push(
      table(
        ['variant', 'server', 'calls/s', 'spread (min–max)', 'runs', 'server µs/call', 'server CPU', 'load CPU s', 'other CPU'],
        results.walker.map((r) => [
          r.variant === 'uid' ? 'with uid' : 'ordered (no uid)',
          `${serverLabels[r.server]}${r.profile === 'jac-cloud' ? ' (jac-cloud)' : r.profile === 'native' ? ' (native)' : r.server === 'socketio' ? ' (acks)' : ''}`,
          int(r.callsPerSec),
          r.spread ? `${int(r.spread.min)}–${int(r.spread.max)}` : '—',
          String(r.spread?.runs ?? 1),
          fixed(r.serverCpuUsPerCall, 2),
          percent(r.serverCpuSec / r.seconds, 0),
          cpuList(r.loadCpuSec),
          percent(r.otherCpuSec / r.seconds, 0),
        ]),
      ),
      '',
      `Raw uWS and the hub in both profiles ran ${w.repeats}× per variant (interleaved); each row is the median run by calls/s. Socket.IO answers through acks.`,
      '',
    );
  }

  if (results.cluster.length > 0) {
    const c = params.cluster;
    out.push(`### Cluster (Walker Hub: N=${int(c.subscribers)} in one room, single node vs. ${c.nodes} nodes on one Redis, publisher on node 0, window ${params.fanout.window})`, '');
    out.push(
      table(
        ['layout', 'messages', 'deliveries/s', 'server µs/delivery', 'spread (min–max)', 'runs', 'server CPU s', 'per node CPU s', 'Redis CPU s', 'delivered', 'load CPU s', 'other CPU'],
        results.cluster.map((r) => [
          r.layout === 'single' ? '1 node' : `${r.nodes} nodes + Redis`,
          int(r.msgs),
          int(r.deliveriesPerSec),
          fixed(r.serverCpuUsPerDelivery, 3),
          range(r.spread?.serverCpuUsPerDelivery, 3),
          String(r.spread?.serverCpuUsPerDelivery.runs ?? 1),
          fixed(r.serverCpuSec, 2),
          cpuList(r.nodeCpuSec),
          fixed(r.redisCpuSec, 2),
          percent(r.deliveredShare, 2),
          cpuList(r.loadCpuSec),
          percent(r.otherCpuSec / r.seconds, 0),
        ]),
      ),
      '',
      `server CPU: every hub node plus Redis, from /proc/<pid>/stat. ${
        c.repeats > 1
          ? `Each layout ran ${c.repeats}× (interleaved), each over at least ${c.targetSec} s; the row is the median run by server µs/delivery (the figure the target compares).`
          : `Each layout ran once, over at least ${c.targetSec} s (the full run takes the median of interleaved repeats).`
      }`,
      ...spreadLines(results.cluster.filter((r) => r.spread).map((r) => `${r.layout === 'single' ? '1 node' : `${r.nodes} nodes + Redis`}: deliveries/s ${range(r.spread?.deliveriesPerSec, 0)}`)),
      '',
    );
  }

  if (results.subscribe.length > 0) {
    const sp = params.subscribe;
    out.push(`### Subscribe latency (Walker Hub: \`subscribe\` sent to \`subscribed\` read, ${sp.connections} sockets × ${sp.rounds} fresh channels each, one in flight per socket)`, '');
    out.push(
      table(
        ['layout', 'channels', 'subscribes', 'p50 ms', 'p99 ms', 'max ms'],
        results.subscribe.map((r) => [r.layout === 'single' ? '1 node' : `${r.nodes} nodes + Redis`, r.channels === 'presence' ? 'presence namespace' : 'plain', int(r.samples), fixed(r.p50Ms, 2), fixed(r.p99Ms, 2), fixed(r.maxMs, 2)]),
      ),
      '',
      'One node answers from its in-process broker; on Redis, `subscribed` waits for the SUBSCRIBE to be confirmed. Channels of the presence namespace also write presence.',
      '',
    );
  }

  if (results.presenceFanout.length > 0) {
    const pf = params.presenceFanout;
    out.push(`### Fanout with presence (Walker Hub: N=${int(pf.subscribers)}, the fanout's room as a channel with presence on, join/leave off, vs a plain channel; window ${params.fanout.window})`, '');
    out.push(
      table(
        ['channel', 'messages', 'deliveries/s', 'server µs/delivery', 'spread µs (min–max)', 'runs', 'server CPU', 'delivered', 'other CPU'],
        results.presenceFanout.map((r) => [
          r.presence ? 'presence on' : 'plain',
          int(r.msgs),
          int(r.deliveriesPerSec),
          fixed(r.serverCpuUsPerDelivery, 3),
          range(r.spread?.serverCpuUsPerDelivery, 3),
          String(r.spread?.serverCpuUsPerDelivery.runs ?? 1),
          percent(r.serverCpuSec / r.seconds, 0),
          percent(r.deliveredShare, 2),
          percent(r.otherCpuSec / r.seconds, 0),
        ]),
      ),
      '',
      `Each ran ${pf.repeats}× (interleaved) on hubs loading the same channels file; the row is the median run by server µs/delivery (the figure the target compares).`,
      '',
    );
  }

  if (results.presence.length > 0) {
    out.push(`### Presence (Walker Hub: \`presence\` sent to its reply read, one request at a time, on a channel of ${int(params.presence.members)} members + the asker)`, '');
    out.push(
      table(
        ['layout', 'members', 'listed', 'reply KiB', 'requests', 'p50 ms', 'p99 ms', 'max ms'],
        results.presence.map((r) => [r.layout === 'single' ? '1 node' : `${r.nodes} nodes + Redis`, int(r.members), int(r.clients), fixed(r.replyBytes / 1024, 0), int(r.samples), fixed(r.p50Ms, 2), fixed(r.p99Ms, 2), fixed(r.maxMs, 2)]),
      ),
      '',
      'One node answers from its registry; on Redis, the node asked reads every member from Redis (members spread evenly over the nodes, the asker on node 0).',
      '',
    );
  }

  if (results.collections.length > 0) {
    const c = params.collections;
    out.push(`### Live data (Walker Hub: ${int(c.subscribers)} subscribers of one collection, each event checked for access and filter, vs a channel; ${int(c.writes)} writes, ${c.window} in flight)`, '');
    out.push(
      table(
        ['fanout', 'events/s', 'µs server CPU/delivery', 'write p50 ms', 'write p99 ms'],
        results.collections.map((r) => [r.fanout === 'checked' ? 'item creates, checked per subscriber' : 'channel frames, no checks', int(r.eventsPerSec), fixed(r.serverCpuUsPerDelivery, 2), r.writeP50Ms === null ? '–' : fixed(r.writeP50Ms, 1), r.writeP99Ms === null ? '–' : fixed(r.writeP99Ms, 1)]),
      ),
      '',
      'Write latency: an `items` create sent to its reply read, on the embedded store (LMDB, fsync per commit), while every subscriber gets the events of the writes before it.',
      '',
    );
  }

  if (targets.length > 0) {
    out.push('### Targets (ratios from this run)', '');
    out.push(
      table(
        ['target', 'value', 'limit', 'result', 'figures'],
        targets.map((t) => [t.target, fixed(t.value, 3), t.limit, t.pass === null ? 'n/a' : t.pass ? 'pass' : 'MISS', t.detail]),
      ),
      '',
    );
  }

  const failures = (Object.entries(results) as [string, { server: keyof typeof serverLabels; error?: string }[]][]).flatMap(([scenario, runs]) =>
    runs.filter((r) => r.error !== undefined).map((r) => `- ${scenario}, ${serverLabels[r.server]}: ${r.error ?? ''}`),
  );
  if (failures.length > 0) out.push('### Failed runs', '', ...failures, '');
  out.push(
    'server CPU: share of one core the server used over the measured window. load CPU s: user+system CPU seconds of each load',
    'process over the window ("proc1+proc2+…"). other CPU: busy CPU of everything outside the benchmark over the same window',
    '(other jobs on the machine), in shares of one core: when it is high, rates are depressed and noisy.',
  );
  return out.join('\n');
}
