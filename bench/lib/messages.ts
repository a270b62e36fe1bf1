/**
 * The IPC vocabulary between the orchestrator (bench/run.ts) and its children: server processes
 * (bench/servers/*) and load processes (bench/load/*). Children are ours, so messages are trusted
 * and only cast, never validated. Every timestamp is `performance.timeOrigin + performance.now()`
 * in ms (with fractions), comparable across processes on one machine.
 */

export const serverKinds = ['uws', 'hub', 'ws', 'socketio'] as const;
export type ServerKind = (typeof serverKinds)[number];

export const serverLabels: Record<ServerKind, string> = {
  hub: 'Walker Hub',
  uws: 'raw uWS',
  ws: 'ws',
  socketio: 'Socket.IO',
};

// ---------------------------------------------------------------------------------------------
// Server children

export type ServerCommand =
  | { type: 'gc' }
  | { type: 'connections' }
  /** CPU-profile the server (V8 sampling profiler, in process) until `profile-stop` writes `file`. */
  | { type: 'profile-start' }
  | { type: 'profile-stop'; file: string }
  | { type: 'stop' };

export type ServerReport =
  | { type: 'listening'; port: number }
  | { type: 'failed'; message: string }
  /** After a forced GC (the child runs with --expose-gc). Bytes. */
  | { type: 'gc'; heapUsed: number; external: number }
  | { type: 'connections'; count: number }
  | { type: 'profiling' }
  | { type: 'profiled'; file: string };

// ---------------------------------------------------------------------------------------------
// Load children

export interface Endpoint {
  readonly kind: ServerKind;
  readonly port: number;
}

export type LoadJob =
  /** Subscribers of one room; worker 0 also hosts the publisher (connected last, on `publisher`). */
  | { kind: 'channel'; endpoint: Endpoint; room: string; subscribers: number; concurrency: number; sampleEvery: number; localAddresses?: readonly string[] }
  /** Whole rooms of `members` connections each; every member sends to its own room. */
  | { kind: 'chat'; endpoint: Endpoint; rooms: string[]; members: number; concurrency: number; inflightMsgs: number }
  /** Idle connections, opened and then left alone. */
  | { kind: 'idle'; endpoint: Endpoint; count: number; concurrency: number };

/**
 * How the publisher sends a phase's messages: bursts of `burst` messages (one write each) with at
 * most `window` messages in flight (sent, own echo not back yet); or at a fixed rate.
 */
export type Pacing = { mode: 'window'; window: number; burst: number } | { mode: 'rate'; perSec: number };

export type LoadCommand =
  | { type: 'setup'; job: LoadJob }
  | { type: 'publisher' }
  /** Channel jobs: `msgs` messages go out (from the worker holding the publisher); each worker reports when all its sockets got them. */
  | { type: 'phase'; msgs: number; pacing: Pacing; timeoutMs: number; skipSeqBelow: number }
  /** Chat jobs: every member sends, flow-controlled, for `durationMs`. */
  | { type: 'chat'; durationMs: number }
  | { type: 'teardown' };

export interface CpuTime {
  /** µs, from process.cpuUsage() over the phase. */
  readonly user: number;
  readonly system: number;
}

export type LoadReport =
  /** Sent once the process listens for commands. */
  | { type: 'hello' }
  /** `cpu`: what opening the sockets cost this process (idle jobs). */
  | { type: 'ready'; connected: number; startedAt: number; readyAt: number; cpu?: CpuTime }
  | {
      type: 'phaseDone';
      /** Frames received by this worker's sockets during the phase, and how many were due. */
      received: number;
      expected: number;
      /** Sockets that did not get exactly the phase's message count. */
      incompleteSockets: number;
      firstSendAt: number | null;
      lastFrameAt: number;
      cpu: CpuTime;
      /** Latency samples (ms), only from sampled subscribers. */
      latencies: Float64Array;
    }
  | { type: 'chatDone'; sent: number; received: number; startedAt: number; endedAt: number; cpu: CpuTime }
  | { type: 'closed' }
  | { type: 'error'; message: string };

// ---------------------------------------------------------------------------------------------
// The autocannon child

export interface RestJob {
  readonly url: string;
  readonly body: string;
  readonly connections: number;
  readonly durationSec: number;
  readonly warmupSec: number;
}

export type RestReport =
  | { type: 'hello' }
  | { type: 'measuring' }
  | {
      type: 'result';
      requestsPerSec: number;
      total: number;
      latencyP50Ms: number;
      latencyP99Ms: number;
      non2xx: number;
      errors: number;
      durationSec: number;
      cpu: CpuTime;
      /** The first response body, to show both servers answered alike. */
      sample: string;
    }
  | { type: 'error'; message: string };

export function now(): number {
  return performance.timeOrigin + performance.now();
}

// ---------------------------------------------------------------------------------------------
// Walker-call load children (bench/load/walker-calls.ts)

/** `uid`: every call carries a uid (answered as each finishes); `ordered`: none (answered in order). */
export type WalkerVariant = 'uid' | 'ordered';

export interface WalkerCallJob {
  readonly endpoint: Endpoint;
  readonly variant: WalkerVariant;
  readonly connections: number;
  /** Calls each connection keeps in flight. */
  readonly window: number;
  readonly body: string;
}

export type WalkerCallCommand = { type: 'job'; job: WalkerCallJob } | { type: 'measure'; durationMs: number };

export type WalkerCallReport =
  | { type: 'hello' }
  /** Connected, one call checked by hand (`sample` is its reply), the window filled and warm. */
  | { type: 'ready'; sample: string }
  | { type: 'measured'; replies: number; seconds: number; cpu: CpuTime }
  | { type: 'error'; message: string };

// ---------------------------------------------------------------------------------------------
// The probe child (bench/load/probe.ts): request/reply timings on a few sockets of its own

export type ProbeCommand =
  /**
   * `connections` sockets (in no room), each `rounds` times in turn: subscribe to a channel of its
   * own never used before (`prefix` + socket + round), time until `subscribed`, then unsubscribe.
   */
  | { type: 'subscribe-latency'; port: number; connections: number; rounds: number; prefix: string }
  /**
   * One socket joins `channel` (at the upgrade, so it is a member and may ask), asks `presence`
   * until the reply lists `members` clients (at most `settleMs`), then `samples` more times, one at a time.
   */
  | { type: 'presence'; port: number; channel: string; members: number; samples: number; settleMs: number };

export type ProbeReport =
  | { type: 'hello' }
  /** Milliseconds from each request sent to its reply read; `replyBytes`: the last reply's size (presence). */
  | { type: 'timed'; latencies: Float64Array; replyBytes: number; clients: number }
  | { type: 'error'; message: string };
