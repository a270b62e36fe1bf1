/**
 * The orchestrator's handles on its children: one server process per scenario run, and a pool of
 * load processes reused across runs (each run sets up a job on every worker and tears it down).
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { isShuttingDown, repoRoot, spawnTs, type Child } from '../lib/children.js';
import type { LoadCommand, LoadJob, LoadReport, ServerCommand, ServerKind, ServerReport } from '../lib/messages.js';
import type { Params } from '../lib/params.js';
import { cpuSeconds, rssBytes, systemBusySeconds } from '../lib/procstat.js';

export type ServerChild = Child<ServerCommand, ServerReport>;
export type LoadChild = Child<LoadCommand, LoadReport>;

/** A predicate narrowing a message union to one `type`. */
export function ofType<M extends { type: string }, K extends M['type']>(type: K) {
  return (m: M): m is Extract<M, { type: K }> => m.type === type;
}

/** What every scenario gets: the parameters, the load pool, and a progress printer. */
export interface Ctx {
  readonly params: Params;
  readonly pool: LoadPool;
  log(line: string): void;
  /** Seconds since the benchmark started. */
  elapsedSec(): number;
}

/** Long enough for every server of a section starting at once on a busy 2-core machine (each compiles its sources with tsx). */
const SERVER_START_MS = 120_000;
export const PROFILE_DIR = resolve(repoRoot, 'bench/results/profiles');

export class Server {
  private constructor(
    readonly kind: ServerKind,
    private readonly child: ServerChild,
    readonly port: number,
  ) {}

  static async start(kind: ServerKind, cpus: string | null, args: readonly string[] = []): Promise<Server> {
    const failure = (m: ServerReport) => (m.type === 'failed' ? m.message : null);
    // Started on any CPU (servers start together, so start-up uses every core), pinned once listening.
    const child = spawnTs<ServerCommand, ServerReport>(`server:${kind}`, `bench/servers/${kind}.ts`, failure, ['--expose-gc'], null, args);
    try {
      const { port } = await child.next(ofType<ServerReport, 'listening'>('listening'), SERVER_START_MS, 'listening report');
      if (cpus !== null) child.pin(cpus);
      return new Server(kind, child, port);
    } catch (err) {
      await child.stop();
      throw err;
    }
  }

  get pid(): number {
    return this.child.pid;
  }

  cpuSeconds(): number {
    return cpuSeconds(this.pid);
  }

  rssBytes(): number {
    return rssBytes(this.pid);
  }

  /** Forces two full GCs in the server and returns its heap use afterwards (bytes). */
  async gc(): Promise<number> {
    this.child.send({ type: 'gc' });
    const report = await this.child.next(ofType<ServerReport, 'gc'>('gc'), 10_000, 'gc report');
    return report.heapUsed;
  }

  async connections(): Promise<number> {
    this.child.send({ type: 'connections' });
    return (await this.child.next(ofType<ServerReport, 'connections'>('connections'), 10_000, 'connection count')).count;
  }

  /** Waits until the server has seen every socket of the last run close (polled every 50 ms). */
  async drained(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const open = await this.connections();
      if (open === 0) return;
      if (Date.now() > deadline) throw new Error(`${this.kind}: ${open} connections still open ${timeoutMs} ms after teardown`);
      await delay(50);
    }
  }

  async profileStart(): Promise<void> {
    this.child.send({ type: 'profile-start' });
    await this.child.next(ofType<ServerReport, 'profiling'>('profiling'), 10_000, 'profiler start');
  }

  async profileStop(file: string): Promise<void> {
    this.child.send({ type: 'profile-stop', file });
    await this.child.next(ofType<ServerReport, 'profiled'>('profiled'), 30_000, 'profile');
  }

  stop(): Promise<void> {
    return this.child.stop(5000);
  }
}

/**
 * Starts a server now, so a scenario can start all its servers together (in parallel, before
 * anything is measured) and give each run a fresh one. A failed start surfaces in `withServer`.
 */
export function launch(ctx: Ctx, kind: ServerKind, args: readonly string[] = []): Promise<Server> {
  const starting = Server.start(kind, ctx.params.pin?.server ?? null, args);
  starting.catch(() => undefined); // handled where it is awaited
  return starting;
}

/** Runs `run` on a launched server; whatever happens, the pool's sockets are closed and the server stopped. */
export async function withServer<T>(ctx: Ctx, launched: Promise<Server>, run: (server: Server) => Promise<T>): Promise<T> {
  const server = await launched;
  try {
    return await run(server);
  } finally {
    await ctx.pool.teardown();
    await server.stop();
  }
}

/** CPU seconds over a measured window: the server's, the whole machine's busy time, and this process's. */
export interface CpuWindow {
  readonly serverCpuSec: number;
  readonly machineBusySec: number;
  readonly orchestratorCpuSec: number;
}

/**
 * Opens a measured window on `server`; the returned function closes it. With `--profile-hub`, a
 * hub server is CPU-profiled over exactly this window, into bench/results/profiles/<label>-<time>.cpuprofile.
 */
export async function openCpuWindow(ctx: Ctx, server: Server, label: string): Promise<() => Promise<CpuWindow>> {
  const profile = ctx.params.profileHub && server.kind === 'hub';
  if (profile) await server.profileStart();
  const server0 = server.cpuSeconds();
  const busy0 = systemBusySeconds();
  const self0 = process.cpuUsage();
  return async () => {
    const self = process.cpuUsage(self0);
    const window = {
      serverCpuSec: server.cpuSeconds() - server0,
      machineBusySec: systemBusySeconds() - busy0,
      orchestratorCpuSec: (self.user + self.system) / 1e6,
    };
    if (profile) {
      mkdirSync(PROFILE_DIR, { recursive: true });
      const file = resolve(PROFILE_DIR, `${label}-${Date.now()}.cpuprofile`);
      await server.profileStop(file);
      ctx.log(`    profile: ${file}`);
    }
    return window;
  };
}

/** CPU seconds spent by processes outside this benchmark during a window (other jobs on the machine, kernel threads). */
export function otherCpu(window: CpuWindow, loadCpuSec: readonly number[]): number {
  return Math.max(0, window.machineBusySec - window.serverCpuSec - window.orchestratorCpuSec - loadCpuSec.reduce((a, b) => a + b, 0));
}

export class LoadPool {
  private constructor(
    private readonly workers: LoadChild[],
    /** taskset CPU list of the load processes, or null. */
    readonly cpus: string | null,
  ) {}

  static async start(size: number, cpus: string | null): Promise<LoadPool> {
    const workers = Array.from({ length: size }, (_, i) => spawnLoad(i, cpus));
    await Promise.all(workers.map((w) => w.next(ofType<LoadReport, 'hello'>('hello'), SERVER_START_MS, 'hello')));
    return new LoadPool(workers, cpus);
  }

  get size(): number {
    return this.workers.length;
  }

  worker(i: number): LoadChild {
    return this.workers[i] as LoadChild;
  }

  /** Gives worker i `jobs[i]` and waits until each has its sockets ready. */
  async setup(jobs: readonly LoadJob[], timeoutMs: number): Promise<Extract<LoadReport, { type: 'ready' }>[]> {
    jobs.forEach((job, i) => this.worker(i).send({ type: 'setup', job }));
    return Promise.all(jobs.map((_, i) => this.worker(i).next(ofType<LoadReport, 'ready'>('ready'), timeoutMs, 'ready report')));
  }

  /** Closes every worker's sockets; replaces a worker that died so the next run starts whole. */
  async teardown(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w, i) => {
        if (w.alive) {
          try {
            w.reset();
            w.send({ type: 'teardown' });
            await w.next(ofType<LoadReport, 'closed'>('closed'), 30_000, 'teardown');
            w.reset();
            return;
          } catch (err) {
            if (!isShuttingDown()) process.stderr.write(`  (${w.name} replaced: ${err instanceof Error ? err.message : String(err)})\n`);
            await w.stop();
          }
        }
        this.workers[i] = spawnLoad(i, this.cpus);
        await this.worker(i).next(ofType<LoadReport, 'hello'>('hello'), SERVER_START_MS, 'hello');
      }),
    );
  }
}

function spawnLoad(i: number, cpus: string | null): LoadChild {
  return spawnTs<LoadCommand, LoadReport>(`load#${i}`, 'bench/load/worker.ts', (m) => (m.type === 'error' ? m.message : null), [], cpus);
}

export function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Splits `total` into `parts` near-equal shares (the first ones larger). */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}
