/**
 * The hub's Prometheus metrics (prom-client), one registry per hub (tests run several hubs in one
 * process). Counters are tallies (tally.ts) read at scrape; gauges are read from their sources at
 * scrape; process and event-loop metrics are prom-client's defaults (`nodejs_eventloop_lag_*`).
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { FastHistogram } from './histogram.js';
import type { TargetKind } from '../broker/broker.js';
import type { Metrics, RateLimit } from './sinks.js';
import { Tally } from './tally.js';

export interface MetricSources {
  /** Open WebSockets now, by whether they carry a user's token. */
  connections(): { authenticated: number; public: number };
  brokerState(): 'up' | 'down';
  /** Resolves when the store answers, rejects otherwise (bounded by STORE_PING_TIMEOUT_MS here). */
  pingStore(): Promise<void>;
  /** False while draining (what `/readyz` says). */
  ready(): boolean;
  /** Characters of walker replies waiting in line behind slower ones, over every connection. */
  replyBacklog?(): number;
}

export interface HubMetrics {
  readonly metrics: Metrics;
  readonly contentType: string;
  /** The exposition text of every metric, gathered now. */
  render(): Promise<string>;
}

/** A scrape never waits longer than this on the store. */
export const STORE_PING_TIMEOUT_MS = 1000;

/** Seconds; walker calls range from microseconds (synchronous) to `walkerTimeoutMs`. */
const WALKER_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30];

/**
 * `labels` go on every series (with `--workers`, `{ worker: "0" }`, so each worker's scrape says
 * whose counters it holds).
 */
export function createMetrics(sources: MetricSources, labels: Readonly<Record<string, string>> = {}): HubMetrics {
  const registry = new Registry();
  if (Object.keys(labels).length > 0) registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: 'walker_hub_connections',
    help: 'Open WebSocket connections, by whether they are authenticated',
    labelNames: ['auth'],
    registers: [registry],
    collect(this: Gauge<'auth'>) {
      const now = sources.connections();
      this.set({ auth: 'authenticated' }, now.authenticated);
      this.set({ auth: 'public' }, now.public);
    },
  });
  new Gauge({
    name: 'walker_hub_reply_backlog_chars',
    help: 'Characters of walker replies waiting in line behind a slower walker, over every connection (each is bounded by replyQueueBytes)',
    registers: [registry],
    collect(this: Gauge) {
      this.set(sources.replyBacklog?.() ?? 0);
    },
  });
  new Gauge({
    name: 'walker_hub_ready',
    help: '1 while the hub takes traffic, 0 while it drains (GET /readyz)',
    registers: [registry],
    collect(this: Gauge) {
      this.set(sources.ready() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'walker_hub_broker_up',
    help: '1 while the broker is connected to the other nodes (always 1 for the in-process broker)',
    registers: [registry],
    collect(this: Gauge) {
      this.set(sources.brokerState() === 'up' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'walker_hub_store_up',
    help: `1 if the store answered a ping during this scrape (within ${STORE_PING_TIMEOUT_MS} ms), else 0`,
    registers: [registry],
    async collect(this: Gauge) {
      this.set((await pingWithin(sources.pingStore, STORE_PING_TIMEOUT_MS)) ? 1 : 0);
    },
  });

  const connects = new Tally(registry, 'walker_hub_connects_total', 'WebSocket connections opened', []);
  const disconnects = new Tally(registry, 'walker_hub_disconnects_total', 'WebSocket connections closed, by close code', ['code']);
  const framesIn = new Tally(registry, 'walker_hub_frames_in_total', 'WebSocket frames received, by type (invalid: unparsable or unknown type)', ['type']);
  const errors = new Tally(registry, 'walker_hub_error_frames_total', 'Errors sent over WebSockets, by error code', ['code']);
  const deliveries = new Tally(registry, 'walker_hub_deliveries_total', 'Connections a notification was handed to on this node, by target kind', ['kind']);
  const walkerCalls = new Tally(registry, 'walker_hub_walker_calls_total', 'Walker calls, by walker, how they were called and status', ['walker', 'via', 'status']);
  const responses = new Tally(registry, 'walker_hub_http_responses_total', 'HTTP responses, by route pattern and status', ['route', 'status']);
  const refusals = new Tally(registry, 'walker_hub_rate_limited_total', 'Requests refused by a budget: frame (per-connection frame budget), auth (login/register), connections (upgrade caps)', ['limit']);
  const published = new Tally(registry, 'walker_hub_broker_published_total', 'Deliveries this node handed to the broker, by target kind', ['kind']);
  const received = new Tally(registry, 'walker_hub_broker_received_total', 'Deliveries the broker handed to this node (its own included), by target kind', ['kind']);
  const historyFailures = new Tally(registry, 'walker_hub_history_publish_failures_total', 'Channel publications that history kept in Redis could not take (Redis unreachable or too slow): lost, the publisher told', []);
  const storeTimeouts = new Tally(registry, 'walker_hub_store_timeouts_total', 'Store operations that missed the store deadline (storeTimeoutMs), by operation', ['op']);
  const walkerSeconds = new FastHistogram(registry, 'walker_hub_walker_duration_seconds', 'Walker call duration (input parsing included), seconds', ['walker', 'via'], WALKER_BUCKETS);

  const metrics: Metrics = {
    connected: () => connects.add(1, ''),
    disconnected: (code) => disconnects.add(1, codeText(code)),
    frameIn: (type) => framesIn.add(1, type),
    errorFrame: (code) => errors.add(1, code),
    delivered: (kind: TargetKind, n) => deliveries.add(n, kind),
    walkerMeter: (walker, via) => {
      const ok = walkerCalls.counter(walker, via, statusText(200));
      const observe = walkerSeconds.observer(walker, via);
      return (status, seconds) => {
        if (status === 200) ok.value++;
        else walkerCalls.add(1, walker, via, statusText(status));
        observe(seconds);
      };
    },
    httpResponse: (route, status) => responses.add(1, route, statusText(status)),
    rateLimited: (limit: RateLimit) => refusals.add(1, limit),
    brokerPublished: (kind) => published.add(1, kind),
    brokerReceived: (kind) => received.add(1, kind),
    storeTimedOut: (op) => storeTimeouts.add(1, op),
    historyFailed: () => historyFailures.add(1, ''),
  };
  return { metrics, contentType: registry.contentType, render: () => registry.metrics() };
}

/** Status and close-code label values, each string built once. */
const numberTexts = new Map<number, string>();
function statusText(n: number): string {
  let text = numberTexts.get(n);
  if (text === undefined) numberTexts.set(n, (text = String(n)));
  return text;
}
const codeText = statusText;

async function pingWithin(ping: () => Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([ping().then(() => true as const), late]);
  } catch {
    // A failed ping is exactly what the gauge reports (0); the store logs its own failures.
    return false;
  } finally {
    clearTimeout(timer);
  }
}
