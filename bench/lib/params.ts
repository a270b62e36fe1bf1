/**
 * Every knob of a run, from the command line: `--quick`, and for development `--servers=hub,uws`,
 * `--scenarios=fanout,latency,walker`, `--sizes=1000,10000` (fanout N), `--load-procs=3`, `--no-pin` (no
 * CPU pinning), `--profile-hub` (CPU profiles of the hub over each measured window, see bench/tools).
 */
import { availableParallelism } from 'node:os';
import { serverKinds, type ServerKind } from './messages.js';

export const scenarioNames = ['fanout', 'latency', 'chat', 'connections', 'rest', 'walker', 'cluster', 'subscribe', 'presence-fanout', 'presence', 'collections'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export interface Params {
  readonly quick: boolean;
  readonly servers: readonly ServerKind[];
  readonly scenarios: readonly ScenarioName[];
  /** Load processes sharing the WebSocket clients of a run. */
  readonly loadProcs: number;
  readonly profileHub: boolean;
  /** taskset CPU lists: the server alone on one core, load processes on the others; null: unpinned (`--no-pin`). */
  readonly pin: { readonly server: string; readonly load: string } | null;
  /**
   * A measurement during which other processes kept more than `busyCores` of CPU busy is repeated
   * on a fresh server, up to `maxAttempts` in all and only while the run is within `budgetSec`.
   */
  readonly retry: { readonly busyCores: number; readonly maxAttempts: number; readonly budgetSec: number };
  /** Live data: item creates to `subscribers` checked subscribers, `window` in flight, vs as many channel frames. */
  readonly collections: { readonly subscribers: number; readonly writes: number; readonly window: number };
  readonly fanout: {
    readonly sizes: readonly number[];
    /** Deliveries in the warm-up, whose rate sizes the measured run to last about `targetSec`. */
    readonly warmDeliveries: number;
    readonly targetSec: number;
    /** Bounds on the measured run's deliveries, whatever the warm-up rate. */
    readonly minDeliveries: number;
    readonly maxDeliveries: number;
    /**
     * The publisher's flow control: at most `window` messages in flight (sent, own echo not back
     * yet), written `burst` per write (1: every message its own write, as from separate clients).
     */
    readonly window: number;
    readonly burst: number;
    /** Concurrent upgrades per load process. */
    readonly concurrency: number;
    readonly timeoutMs: number;
    /** Runs of raw uWS, the hub and Socket.IO at the largest N (interleaved; the median run by deliveries/s is reported, see scenarios/plan.ts). */
    readonly repeats: number;
  };
  readonly latency: {
    readonly subscribers: number;
    readonly durationSec: number;
    /** Messages sent in the first `warmSec` are not sampled. */
    readonly warmSec: number;
    /** Subscribers that decode payloads (spread over the load processes). */
    readonly samples: number;
    /** Offered rate as a share of the server's peak message rate in the fanout run at the same N. */
    readonly rateShare: number;
    /** Runs of raw uWS and of the hub at raw uWS's rate (interleaved; the median run by p99 is reported, see scenarios/plan.ts). */
    readonly repeats: number;
  };
  readonly chat: {
    readonly rooms: number;
    readonly members: number;
    readonly durationSec: number;
    readonly warmSec: number;
    /** Messages each room may have outstanding (sent, not yet delivered to all members). */
    readonly inflightPerRoom: number;
  };
  readonly connections: { readonly count: number; readonly concurrency: number; readonly settleMs: number };
  /** REST: autocannon with `connections`; raw uWS and the hub run `repeats` times, interleaved (median kept; see scenarios/plan.ts). */
  readonly rest: { readonly connections: number; readonly durationSec: number; readonly warmupSec: number; readonly repeats: number; readonly body: string };
  /**
   * One room on a single hub node, then spread over `nodes` hub nodes on one Redis (subscribers
   * evenly, the publisher on node 0); the window and burst are the fanout's. Each layout runs
   * `repeats` times, interleaved, each measured over at least `targetSec`; the row is the median
   * run by server CPU µs per delivery (the figure the target compares).
   */
  readonly cluster: { readonly nodes: number; readonly subscribers: number; readonly targetSec: number; readonly repeats: number };
  /** Walker calls: `connections` sockets × `window` calls in flight, `repeats` interleaved runs per figure. */
  readonly walker: { readonly connections: number; readonly window: number; readonly durationSec: number; readonly warmSec: number; readonly repeats: number; readonly body: string };
  /**
   * Subscribe latency (Walker Hub only): `connections` sockets, each subscribing `rounds` times in
   * turn to a fresh channel (then unsubscribing), on one node and on `cluster.nodes` nodes on one Redis.
   */
  readonly subscribe: { readonly connections: number; readonly rounds: number };
  /** Fanout (the fanout's window and payload) to a presence channel vs a plain one, `repeats` interleaved runs each. */
  readonly presenceFanout: { readonly subscribers: number; readonly repeats: number };
  /** `presence` on a channel of `members` members: `samples` requests after it lists them all (within `settleMs`). */
  readonly presence: { readonly members: number; readonly samples: number; readonly settleMs: number };
}

/** The shortest window any figure is measured over, seconds: shorter ones read as noise (issue 12). */
export const MEASURE_MIN_SEC = 3;

function list<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value.split(',').filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`${flag}: unknown "${item}" (expected ${allowed.join(', ')})`);
  return items as T[];
}

export function parseParams(argv: readonly string[]): Params {
  let quick = false;
  let servers: ServerKind[] = [...serverKinds];
  let scenarios: ScenarioName[] = [...scenarioNames];
  let loadProcs = 3;
  let profileHub = false;
  let sizes: number[] | null = null;
  let pin = availableParallelism() >= 2;
  for (const arg of argv) {
    const [flag, value = ''] = arg.split('=', 2) as [string, string | undefined];
    if (flag === '--quick') quick = true;
    else if (flag === '--servers') servers = list(value, serverKinds, flag);
    else if (flag === '--scenarios') scenarios = list(value, scenarioNames, flag);
    else if (flag === '--load-procs') loadProcs = Math.max(1, Math.min(8, Number.parseInt(value, 10) || 3));
    else if (flag === '--profile-hub') profileHub = true;
    else if (flag === '--no-pin') pin = false;
    else if (flag === '--sizes') sizes = value.split(',').map((v) => Number.parseInt(v, 10)).filter((n) => n > 0 && n <= 20_000);
    else throw new Error(`unknown argument "${arg}" (expected --quick, --servers=, --scenarios=, --sizes=, --load-procs=, --no-pin, --profile-hub)`);
  }
  return {
    quick,
    servers,
    scenarios,
    loadProcs,
    profileHub,
    pin: pin ? { server: '0', load: `1-${availableParallelism() - 1}` } : null,
    retry: { busyCores: 0.25, maxAttempts: quick ? 1 : 2, budgetSec: quick ? 0 : 780 },
    fanout: {
      // Quick: only the N the targets read, so three 3 s repeats fit the ~3 minute budget.
      sizes: sizes ?? (quick ? [1000] : [100, 1000, 10_000]),
      warmDeliveries: 100_000,
      targetSec: quick ? MEASURE_MIN_SEC : 4,
      minDeliveries: 100_000,
      maxDeliveries: 20_000_000,
      window: 8,
      burst: 1,
      concurrency: 64,
      timeoutMs: 120_000,
      repeats: 3,
    },
    latency: { subscribers: 1000, durationSec: quick ? MEASURE_MIN_SEC : 5, warmSec: 0.5, samples: 100, rateShare: 0.5, repeats: 3 },
    chat: { rooms: quick ? 200 : 1000, members: 10, durationSec: quick ? MEASURE_MIN_SEC : 5, warmSec: 0.5, inflightPerRoom: 2 },
    connections: { count: quick ? 2000 : 10_000, concurrency: 64, settleMs: quick ? 500 : 1000 },
    rest: {
      connections: 50,
      durationSec: quick ? MEASURE_MIN_SEC : 5,
      warmupSec: quick ? 0.5 : 1,
      repeats: 3,
      body: JSON.stringify({ user: 'bench-user', room: 'bench', seq: 42, text: 'hello from the benchmark' }),
    },
    // Quick: one run per layout (still over 3 s): three REST repeats already take the ~3 minute budget.
    cluster: { nodes: 3, subscribers: quick ? 1000 : 10_000, targetSec: quick ? MEASURE_MIN_SEC : 4, repeats: quick ? 1 : 3 },
    // Every figure over at least 3 s (MEASURE_MIN_SEC), the median of `repeats` interleaved runs.
    walker: {
      connections: 50,
      window: 16,
      durationSec: quick ? MEASURE_MIN_SEC : 5,
      warmSec: quick ? 0.5 : 1,
      repeats: 3,
      body: JSON.stringify({ user: 'bench-user', room: 'bench', seq: 42, text: 'hello from the benchmark' }),
    },
    subscribe: { connections: 10, rounds: quick ? 50 : 100 },
    presenceFanout: { subscribers: quick ? 1000 : 10_000, repeats: 3 },
    presence: { members: 10_000, samples: quick ? 30 : 100, settleMs: 30_000 },
    collections: { subscribers: 1000, writes: quick ? 500 : 2000, window: 16 },
  };
}
