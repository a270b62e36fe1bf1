/**
 * The figures of a run, as written to bench/results/latest.json. Rates are per second, CPU in
 * seconds unless the name says µs, sizes in bytes unless the name says KB (1 KB = 1024 bytes).
 * A run that failed has an `error` and NaN figures (null in the JSON).
 */
import type { ServerKind, WalkerVariant } from './messages.js';

interface RunBase {
  readonly server: ServerKind;
  readonly error?: string;
  /** Measurements made; the one kept saw the least CPU use from outside the benchmark. */
  readonly attempts?: number;
}

export interface FanoutResult extends RunBase {
  readonly subscribers: number;
  readonly msgs: number;
  /** The publisher's bursts (messages per write) and window (messages in flight). */
  readonly burst: number;
  readonly window: number;
  readonly expected: number;
  readonly received: number;
  readonly deliveredShare: number;
  readonly incompleteSockets: number;
  readonly seconds: number;
  readonly deliveriesPerSec: number;
  readonly msgsPerSec: number;
  readonly serverCpuSec: number;
  readonly serverCpuUsPerDelivery: number;
  /** One entry per load process: user + system CPU seconds over the measured phase. */
  readonly loadCpuSec: number[];
  /** Busy CPU seconds of everything else on the machine over the window (other jobs, kernel threads). */
  readonly otherCpuSec: number;
  /** When the run was repeated: every run's main figures (the one with the most deliveries/s is kept). */
  readonly runs?: { deliveriesPerSec: number; serverCpuUsPerDelivery: number; otherCpuSec: number }[];
  /** When repeated: the row is the median run by deliveries/s; ranges over all runs. */
  readonly spread?: { deliveriesPerSec: Spread; serverCpuUsPerDelivery: Spread };
}

export interface LatencyResult extends RunBase {
  /** `own`: at half this server's peak; `uws-rate`: the hub at raw uWS's offered rate. */
  readonly label: 'own' | 'uws-rate';
  readonly subscribers: number;
  readonly offeredMsgsPerSec: number;
  readonly msgs: number;
  readonly seconds: number;
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly deliveredShare: number;
  readonly serverCpuSec: number;
  readonly loadCpuSec: number[];
  readonly otherCpuSec: number;
  /** When the run was repeated: every run's main figures (the row is the median run by p99). */
  readonly runs?: { p50Ms: number; p99Ms: number; maxMs: number; otherCpuSec: number }[];
  /** When repeated: the row is the median run by p99; the range over all runs. */
  readonly spread?: { p99Ms: Spread };
}

export interface ChatResult extends RunBase {
  readonly rooms: number;
  readonly members: number;
  readonly seconds: number;
  readonly msgsSent: number;
  readonly deliveries: number;
  readonly deliveriesPerSec: number;
  readonly serverCpuSec: number;
  readonly serverCpuUsPerDelivery: number;
  readonly loadCpuSec: number[];
  readonly otherCpuSec: number;
}

export interface ConnectionsResult extends RunBase {
  readonly count: number;
  readonly seconds: number;
  readonly connectsPerSec: number;
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  readonly rssKBPerConnection: number;
  readonly heapKBPerConnection: number;
  /** CPU seconds each load process spent opening its connections. */
  readonly loadCpuSec: number[];
}

export interface RestResult extends RunBase {
  readonly path: string;
  readonly connections: number;
  readonly seconds: number;
  readonly requestsPerSec: number;
  readonly total: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly serverCpuSec: number;
  readonly serverCpuUsPerRequest: number;
  readonly loadCpuSec: number;
  readonly otherCpuSec: number;
  readonly sampleResponse: string;
  /** When repeated: the row is the median run by requests/s; this is the range over all runs. */
  readonly spread?: Spread;
  readonly runs?: { requestsPerSec: number; p99Ms: number; serverCpuUsPerRequest: number; otherCpuSec: number }[];
}

/** The cluster scenario: one room over `nodes` hub processes on one Redis (1: a single node, no Redis). */
export interface ClusterResult extends RunBase {
  readonly layout: 'single' | 'cluster';
  readonly nodes: number;
  readonly subscribers: number;
  readonly msgs: number;
  readonly expected: number;
  readonly received: number;
  readonly deliveredShare: number;
  readonly seconds: number;
  readonly deliveriesPerSec: number;
  /** Every hub node's CPU plus Redis's, over the measured phase. */
  readonly serverCpuSec: number;
  readonly serverCpuUsPerDelivery: number;
  /** One entry per hub node. */
  readonly nodeCpuSec: number[];
  /** 0 for a single node (no Redis). */
  readonly redisCpuSec: number;
  readonly loadCpuSec: number[];
  readonly otherCpuSec: number;
  /** When the run was repeated: every run's main figures. */
  readonly runs?: { deliveriesPerSec: number; serverCpuUsPerDelivery: number; seconds: number; otherCpuSec: number }[];
  /** When repeated: the row is the median run by server µs/delivery (the figure the target compares); ranges over all runs. */
  readonly spread?: { serverCpuUsPerDelivery: Spread; deliveriesPerSec: Spread };
}

/** The spread of repeated runs of one figure: every run's value and the min..max range. */
export interface Spread {
  readonly runs: number;
  readonly min: number;
  readonly max: number;
}

export type WireProfileName = 'native' | 'jac-cloud';

export interface WalkerResult extends RunBase {
  /** The hub's wire profile; null for the other servers. */
  readonly profile: WireProfileName | null;
  readonly variant: WalkerVariant;
  readonly connections: number;
  readonly window: number;
  readonly seconds: number;
  readonly replies: number;
  readonly callsPerSec: number;
  readonly serverCpuSec: number;
  readonly serverCpuUsPerCall: number;
  readonly loadCpuSec: number[];
  readonly otherCpuSec: number;
  /** The reply to the first call, checked by hand. */
  readonly sampleReply: string;
  /** When repeated: the row is the median run by calls/s; this is the range over all runs. */
  readonly spread?: Spread;
  readonly runs?: { callsPerSec: number; serverCpuUsPerCall: number; otherCpuSec: number }[];
}

/** Request to reply times of the probe child (bench/load/probe.ts), ms. */
interface Timings {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Subscribe latency: `subscribe` sent to `subscribed` read, each to a channel never used before. */
export interface SubscribeResult extends RunBase, Timings {
  readonly layout: 'single' | 'cluster';
  readonly nodes: number;
  /** `presence`: channels of a namespace with presence on (join/leave off); `plain`: the default namespace. */
  readonly channels: 'plain' | 'presence';
  readonly connections: number;
}

/** The fanout's room in a namespace with presence on (join/leave off), or a plain channel; same hub, same channels file. */
export interface PresenceFanoutResult extends FanoutResult {
  readonly presence: boolean;
}

/** `presence` sent to its reply read, on a channel of `members` members (the asker among them). */
export interface PresenceResult extends RunBase, Timings {
  readonly layout: 'single' | 'cluster';
  readonly nodes: number;
  readonly members: number;
  /** Clients listed in the reply, and its size (bytes). */
  readonly clients: number;
  readonly replyBytes: number;
}

/** Live data (docs/collections.md): item creates fanned out with per-subscriber checks, or as many channel frames without. */
export interface CollectionsResult {
  readonly server: 'hub';
  readonly fanout: 'checked' | 'channel';
  readonly subscribers: number;
  readonly writes: number;
  readonly eventsPerSec: number;
  readonly serverCpuUsPerDelivery: number;
  /** Send → `items` reply; null for channel frames (no reply). */
  readonly writeP50Ms: number | null;
  readonly writeP99Ms: number | null;
  readonly error?: string;
}

export interface Results {
  fanout: FanoutResult[];
  latency: LatencyResult[];
  chat: ChatResult[];
  connections: ConnectionsResult[];
  rest: RestResult[];
  walker: WalkerResult[];
  cluster: ClusterResult[];
  subscribe: SubscribeResult[];
  presenceFanout: PresenceFanoutResult[];
  presence: PresenceResult[];
  collections: CollectionsResult[];
}

export function emptyResults(): Results {
  return { fanout: [], latency: [], chat: [], connections: [], rest: [], walker: [], cluster: [], subscribe: [], presenceFanout: [], presence: [], collections: [] };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
